package stats

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// Network reads the interface counters of a network namespace.
type Network interface {
	// Interfaces lists the counters of the namespace pinned at netnsPath
	// ("" the agent's own), loopback left out.
	Interfaces(netnsPath string) ([]Interface, error)
}

// Interface is one interface's counters.
type Interface struct {
	Name                                 string
	RxBytes, RxErrors, TxBytes, TxErrors uint64
}

// ProcNetDev reads /proc/thread-self/net/dev: inside a pod's namespace on
// a throwaway thread that entered it (nsutil.Do), so that no long-lived
// goroutine ever changes namespace.
type ProcNetDev struct{}

var _ Network = ProcNetDev{}

const procNetDev = "/proc/thread-self/net/dev"

// Interfaces implements Network.
func (ProcNetDev) Interfaces(netnsPath string) ([]Interface, error) {
	var data []byte
	read := func() (err error) {
		data, err = os.ReadFile(procNetDev)
		return err
	}
	var err error
	if netnsPath == "" {
		err = read()
	} else {
		err = nsutil.Do(netnsPath, read)
	}
	if err != nil {
		return nil, err
	}
	return parseNetDev(data)
}

// parseNetDev reads /proc/net/dev: two header lines, then
// "name: rx bytes packets errs drop fifo frame compressed multicast tx
// bytes packets errs ...".
func parseNetDev(data []byte) ([]Interface, error) {
	var out []Interface
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue // a header line
		}
		f := strings.Fields(rest)
		if len(f) < 11 {
			return nil, fmt.Errorf("net/dev line %q: %d fields", sc.Text(), len(f))
		}
		name = strings.TrimSpace(name)
		if name == "lo" {
			continue
		}
		nums, err := parseUints(f[0], f[2], f[8], f[10])
		if err != nil {
			return nil, fmt.Errorf("net/dev %s: %w", name, err)
		}
		out = append(out, Interface{Name: name, RxBytes: nums[0], RxErrors: nums[1], TxBytes: nums[2], TxErrors: nums[3]})
	}
	return out, nil
}

func parseUints(ss ...string) ([]uint64, error) {
	out := make([]uint64, len(ss))
	for i, s := range ss {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}
