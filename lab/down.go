package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// killGrace is how long processes get between SIGTERM and SIGKILL.
const killGrace = 5 * time.Second

// Down removes the lab node: it stops every process in the lab's namespaces,
// removes the namespaces (which removes the links in them) and the lab's
// state directory. Removing a lab that is partly or wholly gone is not an error.
func (n *Node) Down() error {
	return down(n.cfg)
}

// Down removes the lab described by cfg, as Node.Down does.
func Down(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	return down(cfg)
}

func down(cfg Config) error {
	paths, err := ownedNamespaces(cfg)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range paths {
		errs = append(errs, stopProcessesIn(p))
	}
	for _, p := range paths {
		errs = append(errs, nsutil.Remove(p))
	}
	errs = append(errs, removeState(cfg.StateDir()))
	return errors.Join(errs...)
}

// ownedNamespaces lists the lab's namespace paths, members first.
func ownedNamespaces(cfg Config) ([]string, error) {
	entries, err := os.ReadDir(cfg.NetNSDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		if cfg.ownsNamespace(e.Name()) {
			paths = append(paths, filepath.Join(cfg.NetNSDir, e.Name()))
		}
	}
	sort.Slice(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	return paths, nil
}

// stopProcessesIn sends SIGTERM to every process in the namespace, then
// SIGKILL to those still there after killGrace.
func stopProcessesIn(path string) error {
	pids, err := nsutil.PIDsIn(path)
	if err != nil || len(pids) == 0 {
		return err
	}
	signalAll(pids, syscall.SIGTERM)
	deadline := time.Now().Add(killGrace)
	for time.Now().Before(deadline) {
		if pids, err = nsutil.PIDsIn(path); err != nil || len(pids) == 0 {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	signalAll(pids, syscall.SIGKILL)
	return nil
}

func signalAll(pids []int, sig syscall.Signal) {
	for _, pid := range pids {
		syscall.Kill(pid, sig)
	}
}

// removeState unmounts anything mounted below dir, then deletes it.
func removeState(dir string) error {
	mounts, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s: %w", m, err)
		}
	}
	return os.RemoveAll(dir)
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		mp := fields[4]
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, nil
}
