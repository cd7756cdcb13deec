package volumes

import (
	"errors"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// walkBeneath visits root and everything beneath it that is on root's
// mount, each opened O_PATH beneath its parent's descriptor without
// following a symlink (a symlink is visited, never its target): what a
// container renames or swaps meanwhile cannot lead the walk outside.
func walkBeneath(root *os.File, visit func(f *os.File, st *unix.Stat_t) error) error {
	mnt, err := mountID(root)
	if err != nil {
		return err
	}
	w := walker{visit: visit, mnt: mnt}
	return w.entry(root, ".")
}

type walker struct {
	visit func(f *os.File, st *unix.Stat_t) error
	mnt   uint64
}

// entry visits name beneath dir and, for a directory on the walk's
// mount, what is in it.
func (w walker) entry(dir *os.File, name string) error {
	f, err := openat2(dir, name, unix.O_PATH|unix.O_NOFOLLOW, 0, noFollow)
	if errors.Is(err, unix.ENOENT) {
		return nil // removed meanwhile
	}
	if err != nil {
		return err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return &os.PathError{Op: "stat", Path: f.Name(), Err: err}
	}
	if err := w.visit(f, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return w.children(f)
	}
	return nil
}

// children walks a directory's entries, unless it is another mount.
func (w walker) children(f *os.File) error {
	if id, err := mountID(f); err != nil || id != w.mnt {
		return err
	}
	d, err := openat2(f, ".", unix.O_RDONLY|unix.O_DIRECTORY, 0, noFollow)
	if err != nil {
		return err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return &os.PathError{Op: "readdir", Path: path.Clean(f.Name()), Err: err}
	}
	for _, n := range names {
		if err := w.entry(d, n); err != nil {
			return err
		}
	}
	return nil
}

// DiskUsage is what the files at and beneath dir take on disk (allocated
// blocks, as du counts them), on dir's mount only and following no
// symlink: an emptyDir's usage against its sizeLimit.
func DiskUsage(dir string) (int64, error) {
	bytes, _, err := DiskUsageAndInodes(dir)
	return bytes, err
}

// DiskUsageAndInodes is DiskUsage with the number of inodes counted (each
// file, directory and symlink once): a volume's use as the node's stats
// report it.
func DiskUsageAndInodes(dir string) (bytes, inodes int64, err error) {
	root, err := OpenTrusted(dir)
	if err != nil {
		return 0, 0, err
	}
	defer root.Close()
	err = walkBeneath(root, func(_ *os.File, st *unix.Stat_t) error {
		bytes += st.Blocks * 512
		inodes++
		return nil
	})
	return bytes, inodes, err
}
