package volumes

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// fsGroup, as kubelet's SetVolumeOwnership applies it: every file and
// directory of the volume gets the group, group read and write (read only
// for a read-only volume), directories also group search and setgid (so
// that new files inherit the group). Symlinks get the group, not a mode.
// Unlike kubelet's filepath.Walk, the walk here holds directory
// descriptors and opens each name beneath its parent without following a
// symlink (beneath.go), and stays on the volume's mount: a container that
// swaps a directory for a symlink to /etc meanwhile makes the agent touch
// the symlink, never /etc.

// OwnershipPolicy is the pod's fsGroupChangePolicy.
type OwnershipPolicy string

const (
	// OwnershipAlways walks the whole volume at every mount.
	OwnershipAlways OwnershipPolicy = "Always"
	// OwnershipOnRootMismatch walks only when the volume's root does not
	// have the group and permissions already.
	OwnershipOnRootMismatch OwnershipPolicy = "OnRootMismatch"
)

const (
	rwMask   = 0o660
	roMask   = 0o440
	execMask = 0o110
)

// SetOwnership gives the volume at dir (a directory the agent trusts: the
// volume's root) to group gid as the policy says.
func SetOwnership(dir string, gid int64, policy OwnershipPolicy, readOnly bool) error {
	if gid < 0 || gid > 1<<32-2 {
		return fmt.Errorf("fsGroup %d is not a group id", gid)
	}
	root, err := OpenTrusted(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if policy == OwnershipOnRootMismatch {
		done, err := rootMatches(root, uint32(gid), readOnly)
		if err != nil || done {
			return err
		}
	}
	w := ownershipWalk{gid: int(gid), readOnly: readOnly}
	return walkBeneath(root, w.visit)
}

// rootMatches is kubelet's requiresPermissionChange, negated: the root has
// the group, setgid (a directory) and the group permissions.
func rootMatches(root *os.File, gid uint32, readOnly bool) (bool, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(root.Fd()), &st); err != nil {
		return false, &os.PathError{Op: "stat", Path: root.Name(), Err: err}
	}
	perms := uint32(rwMask)
	if readOnly {
		perms = roMask
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	return st.Gid == gid && (!isDir || st.Mode&unix.S_ISGID != 0) && st.Mode&perms == perms, nil
}

type ownershipWalk struct {
	gid      int
	readOnly bool
}

// visit changes one file (f is O_PATH, never a followed symlink).
func (w ownershipWalk) visit(f *os.File, st *unix.Stat_t) error {
	if err := unix.Fchownat(int(f.Fd()), "", -1, w.gid, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "chown", Path: f.Name(), Err: err}
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return nil
	case unix.S_IFDIR:
		return chmodPath(f, w.mode(st.Mode, true))
	}
	return chmodPath(f, w.mode(st.Mode, false))
}

// mode adds kubelet's bits to a file's mode (permissions and setuid,
// setgid, sticky kept).
func (w ownershipWalk) mode(m uint32, dir bool) uint32 {
	mask := uint32(rwMask)
	if w.readOnly {
		mask = roMask
	}
	if dir {
		mask |= unix.S_ISGID | execMask
	}
	return m&0o7777 | mask
}
