// Package nsutil creates, enters and removes named network namespaces without
// ever switching the namespace of a long-lived goroutine: work that must run
// inside a namespace runs on a locked OS thread that is thrown away afterwards.
package nsutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// DefaultDir is where iproute2 keeps named network namespaces.
const DefaultDir = "/var/run/netns"

// Create makes a new network namespace and pins it with a bind mount at
// dir/name, as `ip netns add` does. It fails if the name is taken.
func Create(dir, name string) (string, error) {
	if err := sharedMountDir(dir); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return "", fmt.Errorf("create netns %s: %w", name, err)
	}
	f.Close()
	if err := onThrowawayThread(func() error { return pinNewNetNS(path) }); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("create netns %s: %w", name, err)
	}
	return path, nil
}

// sharedMountDir makes dir a mount point with shared propagation, as
// `ip netns add` does for /var/run/netns, so that namespaces pinned there are
// seen in every mount namespace and both tools agree on the layout.
func sharedMountDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create netns dir %s: %w", dir, err)
	}
	err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if !errors.Is(err, unix.EINVAL) {
		return wrapIf(err, "make %s shared", dir)
	}
	if err := unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind mount %s onto itself: %w", dir, err)
	}
	return wrapIf(unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, ""), "make %s shared", dir)
}

func wrapIf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// pinNewNetNS moves the calling (locked, throwaway) thread into a new network
// namespace and bind-mounts that namespace onto path.
func pinNewNetNS(path string) error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	self := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
	if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	return nil
}

// Remove unmounts and deletes a namespace created by Create. A namespace that
// is already gone is not an error.
func Remove(path string) error {
	// A pin can be mounted more than once (bind mounts of the directory made
	// by other tools copy it); unmount until nothing is mounted there.
	for range 8 {
		err := unix.Unmount(path, unix.MNT_DETACH)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			break
		}
		if err != nil {
			return fmt.Errorf("unmount netns %s: %w", path, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove netns %s: %w", path, err)
	}
	return nil
}

// Do runs fn on a locked OS thread that has entered the namespace at path.
// No other goroutine ever runs in that namespace: the thread returns to its
// own namespace before it is unlocked.
// Processes started by fn (exec.Cmd.Start) inherit the namespace.
func Do(path string, fn func() error) error {
	target, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", path, err)
	}
	defer target.Close()
	return onThrowawayThread(func() error {
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("enter netns %s: %w", path, err)
		}
		return fn()
	})
}

// onThrowawayThread runs fn on a new goroutine locked to its OS thread. When
// fn is done the thread goes back to the namespace it came from and is
// unlocked; if it cannot go back it stays locked, so the Go runtime discards
// it (or, for the main thread, never schedules on it again).
func onThrowawayThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- fmt.Errorf("open own netns: %w", err)
			return
		}
		defer orig.Close()
		err = fn()
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// DialContext opens a connection whose socket lives in the namespace at path.
// The returned connection may be used from any goroutine.
func DialContext(ctx context.Context, path, network, address string) (net.Conn, error) {
	var conn net.Conn
	err := Do(path, func() error {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, address)
		conn = c
		return err
	})
	return conn, err
}

// Inode identifies a namespace: two paths name the same namespace when their
// device and inode numbers match.
type Inode struct{ Dev, Ino uint64 }

// InodeOf returns the namespace identity of path (a pinned netns file or a
// /proc/<pid>/ns/net link).
func InodeOf(path string) (Inode, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Inode{}, fmt.Errorf("stat %s: %w", path, err)
	}
	return Inode{Dev: st.Dev, Ino: st.Ino}, nil
}

// PIDsIn lists the processes whose network namespace is the one at path.
func PIDsIn(path string) ([]int, error) {
	want, err := InodeOf(path)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		if got, err := InodeOf(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil && got == want {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
