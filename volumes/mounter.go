package volumes

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// Mounter is the volume code's kernel edge: the few mounts it makes, and
// finding and removing them again. Mount targets and bind sources are open
// descriptors, never paths, so that nothing between the check and the
// mount can redirect it.
type Mounter interface {
	// MountTmpfs mounts a tmpfs with these options (tmpfs(5): size=,
	// mode=) on the directory dir refers to, nosuid and nodev.
	MountTmpfs(dir *os.File, options string) error
	// Bind bind-mounts the file or directory src refers to onto dst (of
	// the same kind), not recursively.
	Bind(src, dst *os.File) error
	// BindReadOnly is Bind with the new mount read-only.
	BindReadOnly(src, dst *os.File) error
	// MountDevice mounts the filesystem of type fsType on the block device
	// dev onto the directory dir refers to, with mount(8)-style options
	// (ro, noatime, nodev... and the filesystem's own, passed on).
	MountDevice(dev string, dir *os.File, fsType string, options []string) error
	// Source is what is mounted at path, topmost (the device of a
	// filesystem), or "" when nothing is.
	Source(path string) (string, error)
	// Unmount unmounts the mount at path, not following a symlink there.
	// Nothing mounted there is not an error.
	Unmount(path string) error
	// List returns the mount points at or beneath dir (symlinks in dir
	// resolved), deepest first: the order to unmount them in.
	List(dir string) ([]string, error)
}

// System is the Mounter of the running kernel.
type System struct{}

var _ Mounter = System{}

// MountTmpfs mounts on /proc/self/fd/N: the directory opened, whatever its
// path has become.
func (System) MountTmpfs(dir *os.File, options string) error {
	err := unix.Mount("tmpfs", procPath(dir), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, options)
	if err != nil {
		return &os.PathError{Op: "mount tmpfs", Path: dir.Name(), Err: err}
	}
	return nil
}

// Bind mounts /proc/self/fd/<src> on /proc/self/fd/<dst>, as kubelet binds
// an opened subPath.
func (System) Bind(src, dst *os.File) error {
	if err := unix.Mount(procPath(src), procPath(dst), "", unix.MS_BIND, ""); err != nil {
		return &os.PathError{Op: "bind " + src.Name() + " on", Path: dst.Name(), Err: err}
	}
	return nil
}

// BindReadOnly clones src's mount (open_tree), makes the clone read-only
// (mount_setattr) and attaches it on dst (move_mount): no moment exists
// where the bind is writable, and neither end is named by a path.
func (System) BindReadOnly(src, dst *os.File) error {
	fd, err := unix.OpenTree(int(src.Fd()), "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return &os.PathError{Op: "open_tree", Path: src.Name(), Err: err}
	}
	defer unix.Close(fd)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		return &os.PathError{Op: "mount_setattr ro", Path: src.Name(), Err: err}
	}
	err = unix.MoveMount(fd, "", int(dst.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	if err != nil {
		return &os.PathError{Op: "bind " + src.Name() + " read-only on", Path: dst.Name(), Err: err}
	}
	return nil
}

// MountDevice mounts on /proc/self/fd/N: the directory opened.
func (System) MountDevice(dev string, dir *os.File, fsType string, options []string) error {
	flags, data := MountFlags(options)
	if err := unix.Mount(dev, procPath(dir), fsType, flags, data); err != nil {
		return &os.PathError{Op: "mount " + fsType + " " + dev + " on", Path: dir.Name(), Err: err}
	}
	return nil
}

// Source reads the mount's source from /proc/self/mountinfo.
func (System) Source(path string) (string, error) {
	infos, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(path))
	if err != nil || len(infos) == 0 {
		return "", err
	}
	return infos[len(infos)-1].Source, nil
}

// Unmount unmounts with UMOUNT_NOFOLLOW; EINVAL (not a mount point) and
// ENOENT mean nothing is mounted there.
func (System) Unmount(path string) error {
	err := unix.Unmount(path, unix.UMOUNT_NOFOLLOW)
	if err == nil || err == unix.EINVAL || err == unix.ENOENT {
		return nil
	}
	return &os.PathError{Op: "unmount", Path: path, Err: err}
}

// List reads /proc/self/mountinfo.
func (System) List(dir string) ([]string, error) {
	real, err := resolveDir(dir)
	if err != nil || real == "" {
		return nil, err
	}
	infos, err := mountinfo.GetMounts(mountinfo.PrefixFilter(real))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range infos {
		out = append(out, m.Mountpoint)
	}
	return deepestFirst(out), nil
}

// resolveDir is dir with its symlinks resolved, as mountinfo names mount
// points; "" when dir does not exist.
func resolveDir(dir string) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if os.IsNotExist(err) {
		return "", nil
	}
	return real, err
}

// deepestFirst sorts mount points so that each comes before those it is
// beneath. A path mounted over twice is listed twice: it is unmounted as
// often.
func deepestFirst(paths []string) []string {
	sort.SliceStable(paths, func(i, j int) bool {
		return strings.Count(paths[i], "/") > strings.Count(paths[j], "/")
	})
	return paths
}
