package volumes

import (
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Fake is an in-memory Mounter for tests that run without root. It keeps a
// mount table (mount points resolved from the descriptors as the kernel
// would) and refuses what the kernel refuses: a bind between a file and a
// directory, a tmpfs on a file.
type Fake struct {
	// CheckDevice, when set, decides whether MountDevice succeeds: a
	// kernel refuses a device without the filesystem type.
	CheckDevice func(dev, fsType string) error
	mu          sync.Mutex
	mounts      map[string][]FakeMount // mount point -> stack, topmost last
}

// FakeMount is one mount in the fake's table.
type FakeMount struct {
	Type    string // "tmpfs", "bind" or a filesystem type
	Source  string // the bound path, for a bind; the device
	Options string // the tmpfs or filesystem options; "ro" for a read-only bind
}

var _ Mounter = &Fake{}

// NewFake returns a fake with nothing mounted.
func NewFake() *Fake { return &Fake{mounts: map[string][]FakeMount{}} }

// MountTmpfs records a tmpfs on the directory dir refers to.
func (f *Fake) MountTmpfs(dir *os.File, options string) error {
	target, isDir, err := fakeResolve(dir)
	if err != nil {
		return err
	}
	if !isDir {
		return &os.PathError{Op: "mount tmpfs", Path: target, Err: unix.ENOTDIR}
	}
	f.push(target, FakeMount{Type: "tmpfs", Options: options})
	return nil
}

// Bind records a bind mount of src's file on dst's.
func (f *Fake) Bind(src, dst *os.File) error {
	from, srcDir, err := fakeResolve(src)
	if err != nil {
		return err
	}
	to, dstDir, err := fakeResolve(dst)
	if err != nil {
		return err
	}
	if srcDir != dstDir {
		return &os.PathError{Op: "bind " + from + " on", Path: to, Err: unix.ENOTDIR}
	}
	f.push(to, FakeMount{Type: "bind", Source: from})
	return nil
}

// BindReadOnly records a read-only bind mount.
func (f *Fake) BindReadOnly(src, dst *os.File) error {
	to, _, err := fakeResolve(dst)
	if err != nil {
		return err
	}
	if err := f.Bind(src, dst); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	top := f.mounts[to]
	top[len(top)-1].Options = "ro"
	return nil
}

// MountDevice records a filesystem on the directory dir refers to; the
// fake's Check, when set, may refuse it (no filesystem on the device).
func (f *Fake) MountDevice(dev string, dir *os.File, fsType string, options []string) error {
	target, isDir, err := fakeResolve(dir)
	if err != nil {
		return err
	}
	if !isDir {
		return &os.PathError{Op: "mount " + dev, Path: target, Err: unix.ENOTDIR}
	}
	if f.CheckDevice != nil {
		if err := f.CheckDevice(dev, fsType); err != nil {
			return &os.PathError{Op: "mount " + dev, Path: target, Err: err}
		}
	}
	f.push(target, FakeMount{Type: fsType, Source: dev, Options: strings.Join(options, ",")})
	return nil
}

// Source is the topmost mount's source at path.
func (f *Fake) Source(path string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.mounts[path]
	if len(s) == 0 {
		return "", nil
	}
	if s[len(s)-1].Source == "" {
		return s[len(s)-1].Type, nil
	}
	return s[len(s)-1].Source, nil
}

// Unmount pops the topmost mount at path; a symlink there is not followed.
func (f *Fake) Unmount(path string) error {
	if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSymlink != 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.mounts[path]; len(s) > 1 {
		f.mounts[path] = s[:len(s)-1]
	} else {
		delete(f.mounts, path)
	}
	return nil
}

// List returns the mount points at or beneath dir, deepest first.
func (f *Fake) List(dir string) ([]string, error) {
	real, err := resolveDir(dir)
	if err != nil || real == "" {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for p, s := range f.mounts {
		if strings.HasPrefix(p+"/", real+"/") {
			for range s {
				out = append(out, p)
			}
		}
	}
	return deepestFirst(out), nil
}

// Mounts returns a copy of the table: mount point -> topmost mount.
func (f *Fake) Mounts() map[string]FakeMount {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]FakeMount{}
	for p, s := range f.mounts {
		out[p] = s[len(s)-1]
	}
	return out
}

func (f *Fake) push(target string, m FakeMount) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mounts[target] = append(f.mounts[target], m)
}

// fakeResolve is the path an open descriptor refers to, and whether it is
// a directory: what the kernel mounts on through /proc/self/fd.
func fakeResolve(file *os.File) (string, bool, error) {
	p, err := os.Readlink(procPath(file))
	if err != nil {
		return "", false, err
	}
	st, err := os.Stat(procPath(file))
	if err != nil {
		return "", false, err
	}
	return p, st.IsDir(), nil
}
