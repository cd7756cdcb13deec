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
