package localdriver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nodeagent/nodeagent/volumes"
)

// The backing files of file-backed volumes, as the volume manager sees
// them for the control plane's contract (volumes/doc.go, "Control
// plane"): it adds the backing-file finalizer to the volume before the
// first stage makes the file and, when the reclaim policy says so and the
// volume is unstaged, has the file removed, then removes the finalizer.
//
// A removal is crash-safe in two steps: RemoveBackingFile renames
// <handle>.img to <handle>.removing (no stage finds it there) and empties
// it; FinishRemoval, once the finalizer is gone, removes the marker. An
// agent killed in between still holds the marker, so it still looks at
// the volume and finishes.

const (
	backingSuffix  = ".img"
	removingSuffix = ".removing"
)

// BackingFile reports whether a volume with these attributes is backed by
// a file that its first stage makes, and whether that file exists now.
func (d *Driver) BackingFile(handle string, attrs map[string]string) (fileBacked, exists bool, err error) {
	if attrs[AttrBacking] != BackingFile {
		return false, false, nil
	}
	if err := validHandle(handle); err != nil {
		return true, false, err
	}
	st, err := os.Lstat(d.backingFile(handle))
	switch {
	case isNotExist(err):
		return true, false, nil
	case err != nil:
		return true, false, err
	case !st.Mode().IsRegular():
		return true, true, fmt.Errorf("backing file %s is not a regular file", d.backingFile(handle))
	}
	return true, true, nil
}

// HeldVolumes returns, sorted by handle, the volumes whose backing files
// (or removal markers) are on the node: regular files only, anything else
// in the directory was not made here.
func (d *Driver) HeldVolumes() ([]volumes.HeldFile, error) {
	entries, err := os.ReadDir(d.cfg.BackingDir)
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	held := map[string]bool{} // handle -> removing
	for _, e := range entries {
		handle, removing, ok := parseBackingName(e.Name())
		if ok && e.Type().IsRegular() && validHandle(handle) == nil {
			held[handle] = held[handle] || removing
		}
	}
	out := make([]volumes.HeldFile, 0, len(held))
	for h, removing := range held {
		out = append(out, volumes.HeldFile{Handle: h, Removing: removing})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Handle < out[j].Handle })
	return out, nil
}

func parseBackingName(name string) (handle string, removing, ok bool) {
	if h, ok := strings.CutSuffix(name, backingSuffix); ok {
		return h, false, true
	}
	h, ok := strings.CutSuffix(name, removingSuffix)
	return h, true, ok
}

// RemoveBackingFile removes a volume's data: the reclaim policy Delete,
// once the volume is unstaged. The file is renamed to its removal marker
// and emptied; FinishRemoval removes the marker. It refuses a file that a
// loop device still holds, or that is not a regular file. Called again, it
// finishes what it began.
func (d *Driver) RemoveBackingFile(_ context.Context, handle string) error {
	if err := validHandle(handle); err != nil {
		return err
	}
	path, marker := d.backingFile(handle), d.removalMarker(handle)
	if err := d.retire(path, marker); err != nil {
		return err
	}
	if err := os.Truncate(marker, 0); err != nil && !isNotExist(err) {
		return err
	}
	d.cfg.Log.Info("removed a volume's backing file", "file", path)
	return syncDir(d.cfg.BackingDir)
}

// retire renames the backing file to its removal marker, unless it is
// gone already.
func (d *Driver) retire(path, marker string) error {
	st, err := os.Lstat(path)
	if isNotExist(err) {
		return nil
	}
	if err != nil || !st.Mode().IsRegular() {
		return errors.Join(err, fmt.Errorf("backing file %s is not a regular file: it is not removed", path))
	}
	devs, err := d.cfg.Loop.Find(path)
	if err != nil {
		return err
	}
	if len(devs) > 0 {
		return fmt.Errorf("backing file %s is attached to %v: it is not removed", path, devs)
	}
	if err := os.Rename(path, marker); err != nil {
		return err
	}
	return syncDir(d.cfg.BackingDir)
}

// FinishRemoval removes a volume's removal marker; none is no error.
func (d *Driver) FinishRemoval(handle string) error {
	if err := validHandle(handle); err != nil {
		return err
	}
	if err := os.Remove(d.removalMarker(handle)); err != nil && !isNotExist(err) {
		return err
	}
	return nil
}

func (d *Driver) removalMarker(handle string) string {
	return filepath.Join(d.cfg.BackingDir, handle+removingSuffix)
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}
