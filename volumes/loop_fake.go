package volumes

import (
	"fmt"
	"os"
	"sort"
	"sync"

	"golang.org/x/sys/unix"
)

// FakeLoop is an in-memory Loop: devices /dev/loopN bound to real files
// (found again by device and inode, as the kernel does), refusing what
// the kernel's would (a missing file, a directory, a second attach).
type FakeLoop struct {
	mu      sync.Mutex
	next    int
	devs    map[string]string // device -> backing file
	Attachs int               // how many attaches were made, ever
}

var _ Loop = &FakeLoop{}

// NewFakeLoop returns a fake with no device attached.
func NewFakeLoop() *FakeLoop { return &FakeLoop{devs: map[string]string{}} }

// Attach binds the next free device number to the file.
func (f *FakeLoop) Attach(path string) (string, error) {
	devs, err := f.Find(path)
	if err != nil {
		return "", err
	}
	if len(devs) > 0 {
		return "", attachedError(path, devs)
	}
	st, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("attach %s: not a regular file", path)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		dev := fmt.Sprintf("/dev/loop%d", f.next)
		f.next++
		if _, used := f.devs[dev]; !used {
			f.devs[dev] = path
			f.Attachs++
			return dev, nil
		}
	}
}

// Find compares device and inode, as the kernel's status does.
func (f *FakeLoop) Find(path string) ([]string, error) {
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for dev, p := range f.devs {
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil && st.Dev == want.Dev && st.Ino == want.Ino {
			out = append(out, dev)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Detach unbinds the device; an unbound one is not an error.
func (f *FakeLoop) Detach(dev string) error {
	if err := validLoopDevice(dev); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.devs, dev)
	return nil
}

// List returns a copy of the attached devices.
func (f *FakeLoop) List() (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for d, p := range f.devs {
		out[d] = p
	}
	return out, nil
}

// Backing is the file a fake device is bound to ("" for none).
func (f *FakeLoop) Backing(dev string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.devs[dev]
}
