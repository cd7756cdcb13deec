package ipvs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// ProcSysctl writes settings under Root (/proc/sys unless set) from inside
// the netns at NetNSPath ("": the caller's): /proc/sys/net belongs to the
// netns of the thread that opens the file, so the open happens in there.
type ProcSysctl struct {
	NetNSPath string
	Root      string
}

var _ SysctlWriter = ProcSysctl{}

// Write sets key (net.ipv4.vs.conntrack) to value.
func (p ProcSysctl) Write(key, value string) error {
	root := p.Root
	if root == "" {
		root = "/proc/sys"
	}
	path := filepath.Join(root, strings.ReplaceAll(key, ".", "/"))
	write := func() error {
		// Not os.WriteFile: a /proc/sys file exists or the kernel lacks the
		// setting; never create one.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		_, err = f.WriteString(value + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if p.NetNSPath == "" {
		return wrapSysctl(write(), key)
	}
	return wrapSysctl(nsutil.Do(p.NetNSPath, write), key)
}

func wrapSysctl(err error, key string) error {
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}
