package volumes

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Every write and remove the agent does in a volume goes through a file
// descriptor of a directory it trusts and names beneath it that are
// resolved by openat2(2) with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or by the
// *at calls on a single name (mkdirat, symlinkat, renameat, unlinkat), which
// never follow a final symlink. A symlink that a container planted, or swaps
// in at any moment, is never followed: the call fails with ELOOP instead.

// noFollow resolves beneath the directory and follows no symlink at all.
const noFollow = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// ErrSymlink says that a path the agent was to write through holds a symlink.
var ErrSymlink = errors.New("a symlink is in the way")

// ErrEscapes says that a path resolves outside the directory it must stay in.
var ErrEscapes = errors.New("the path leads outside its volume")

// openat2 opens name beneath dir with the resolve flags; O_CLOEXEC is added.
func openat2(dir *os.File, name string, flags uint64, mode uint32, resolve uint64) (*os.File, error) {
	how := unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Mode: uint64(mode), Resolve: resolve}
	var err error
	// EAGAIN: a rename raced with a ".." lookup. A few tries, not forever:
	// a container that renames without pause must not hold the agent.
	for try := 0; try < 16; try++ {
		var fd int
		fd, err = unix.Openat2(int(dir.Fd()), name, &how)
		if err == nil {
			return os.NewFile(uintptr(fd), path.Join(dir.Name(), name)), nil
		}
		if err != unix.EINTR && err != unix.EAGAIN {
			break
		}
	}
	return nil, openError(dir, name, err)
}

// openError names the path and maps the resolve failures to ErrSymlink
// (a symlink with RESOLVE_NO_SYMLINKS) and ErrEscapes (RESOLVE_BENEATH).
func openError(dir *os.File, name string, err error) error {
	switch err {
	case unix.ELOOP:
		err = fmt.Errorf("%w (%w)", ErrSymlink, err)
	case unix.EXDEV:
		err = fmt.Errorf("%w (%w)", ErrEscapes, err)
	case unix.ENOSYS:
		err = fmt.Errorf("the kernel lacks openat2(2), needed to write volumes safely (Linux 5.6 or later): %w", err)
	}
	return &os.PathError{Op: "open", Path: path.Join(dir.Name(), name), Err: err}
}

// openDir opens the directory name beneath dir, following no symlink. The
// descriptor is O_PATH: good for the *at calls and for mounting on.
func openDir(dir *os.File, name string) (*os.File, error) {
	return openat2(dir, name, unix.O_PATH|unix.O_DIRECTORY, 0, noFollow)
}

// OpenTrusted opens a directory the agent trusts (its root directory,
// given by its configuration) as the start of confined paths.
func OpenTrusted(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return os.NewFile(uintptr(fd), dir), nil
}

// mkdirAll creates rel (slash-separated, relative) beneath dir one name at
// a time with perm (then fchmod-ed past the umask when fresh), following no
// symlink, and returns the last directory opened O_PATH.
func mkdirAll(dir *os.File, rel string, perm uint32) (*os.File, error) {
	cur, err := openDir(dir, ".")
	if err != nil {
		return nil, err
	}
	for _, name := range splitPath(rel) {
		next, err := mkdirOne(cur, name, perm)
		cur.Close()
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// mkdirOne makes the directory name in dir (an existing one is kept) and
// opens it.
func mkdirOne(dir *os.File, name string, perm uint32) (*os.File, error) {
	err := unix.Mkdirat(int(dir.Fd()), name, perm)
	if err != nil && err != unix.EEXIST {
		return nil, &os.PathError{Op: "mkdir", Path: path.Join(dir.Name(), name), Err: err}
	}
	d, oerr := openDir(dir, name)
	if oerr != nil || err == unix.EEXIST {
		return d, oerr
	}
	// A fresh directory gets its mode whatever the umask.
	return d, chmodPath(d, perm)
}

// chmodPath sets the mode of what an O_PATH descriptor refers to (fchmod
// refuses O_PATH descriptors; the /proc magic link reaches the same inode).
func chmodPath(f *os.File, perm uint32) error {
	if err := unix.Chmod(procPath(f), perm); err != nil {
		return &os.PathError{Op: "chmod", Path: f.Name(), Err: err}
	}
	return nil
}

// procPath names what f refers to through /proc/self/fd: the way to mount
// on, or bind from, an opened file rather than a path that could change.
func procPath(f *os.File) string { return fmt.Sprintf("/proc/self/fd/%d", f.Fd()) }

// splitPath splits a relative slash-separated path into its names,
// dropping empty ones and ".".
func splitPath(rel string) []string {
	var out []string
	for _, n := range strings.Split(rel, "/") {
		if n != "" && n != "." {
			out = append(out, n)
		}
	}
	return out
}

// removeAll removes name in dir and, for a directory, everything in it,
// following no symlink (a symlink is removed, not its target). A missing
// name is not an error.
func removeAll(dir *os.File, name string) error {
	err := unix.Unlinkat(int(dir.Fd()), name, 0)
	switch {
	case err == nil || err == unix.ENOENT:
		return nil
	case err != unix.EISDIR:
		return &os.PathError{Op: "unlink", Path: path.Join(dir.Name(), name), Err: err}
	}
	if err := clearDir(dir, name); err != nil {
		return err
	}
	if err := unix.Unlinkat(int(dir.Fd()), name, unix.AT_REMOVEDIR); err != nil && err != unix.ENOENT {
		return &os.PathError{Op: "rmdir", Path: path.Join(dir.Name(), name), Err: err}
	}
	return nil
}

// clearDir removes everything in the directory name beneath dir. It
// refuses to go into another mount (a bind mount or tmpfs left there):
// what is mounted is not the agent's to delete.
func clearDir(dir *os.File, name string) error {
	d, err := openat2(dir, name, unix.O_RDONLY|unix.O_DIRECTORY, 0, noFollow)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := sameMount(dir, d); err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := removeAll(d, n); err != nil {
			return err
		}
	}
	return nil
}

// ErrMounted says that a directory to remove is (or holds) a mount point.
var ErrMounted = errors.New("a mount point is in the way")

// sameMount fails with ErrMounted when child is on another mount than
// parent.
func sameMount(parent, child *os.File) error {
	p, err := mountID(parent)
	if err != nil {
		return err
	}
	c, err := mountID(child)
	if err != nil {
		return err
	}
	if p != c {
		return &os.PathError{Op: "remove", Path: child.Name(), Err: ErrMounted}
	}
	return nil
}

func mountID(f *os.File) (uint64, error) {
	var st unix.Statx_t
	if err := unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &st); err != nil {
		return 0, &os.PathError{Op: "statx", Path: f.Name(), Err: err}
	}
	return st.Mnt_id, nil
}
