package volumes

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A subPath is resolved inside its volume and bind-mounted onto a target
// the pod owns; the runtime is given the target, never a path it would
// resolve again (the CVE-2017-1002101 pattern: a symlink planted in an
// emptyDir that makes the runtime's bind mount reach the host).
//
//	<podDir>/volume-subpaths/<volume>/<container>/<index of the volumeMount>

// subPathResolve resolves beneath the volume: symlinks that stay inside
// it are followed (as kubelet allows), absolute ones and ".." past its
// root fail with EXDEV, magic links never resolve.
const subPathResolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS

// SubPathDir is the directory of a pod's subPath mounts.
const SubPathDir = "volume-subpaths"

// SubPath is one volumeMount's subPath.
type SubPath struct {
	PodDir    string // the pod's directory (trusted)
	Volume    string // the volume's name
	VolPath   string // the volume's directory on the host (resolved)
	Container string // the container's name
	Index     int    // the volumeMount's index in the container
	Path      string // the subPath, relative to the volume
}

// MountSubPath creates a missing subPath directory inside the volume
// (following no symlink), opens the subPath beneath the volume, bind-mounts
// the opened file onto its target and returns the target for the runtime.
func (m *Manager) MountSubPath(sp SubPath) (string, error) {
	if err := validateSubPath(sp.Path); err != nil {
		return "", err
	}
	if err := errors.Join(ValidName(sp.Volume), ValidName(sp.Container)); err != nil {
		return "", err
	}
	vol, err := OpenTrusted(sp.VolPath)
	if err != nil {
		return "", err
	}
	defer vol.Close()
	rel := path.Clean(sp.Path)
	if err := makeSubPath(vol, rel); err != nil {
		return "", err
	}
	src, err := openat2(vol, rel, unix.O_PATH, 0, subPathResolve)
	if err != nil {
		return "", err
	}
	defer src.Close()
	return m.bindTarget(sp, src)
}

// validateSubPath refuses an absolute subPath or one with "..": the API
// refuses them too, but static pods and older objects skip it.
func validateSubPath(p string) error {
	if path.IsAbs(p) {
		return fmt.Errorf("subPath %q: %w: must be a relative path", p, ErrInvalidPath)
	}
	for _, n := range strings.Split(p, "/") {
		if n == ".." {
			return fmt.Errorf("subPath %q: %w: must not contain '..'", p, ErrInvalidPath)
		}
	}
	return nil
}

// makeSubPath creates the subPath's missing directories, as kubelet does
// before the mount (with the volume directory's mode): beneath the deepest
// part that exists (found inside the volume), one name at a time with no
// symlink followed, so a symlink swapped in meanwhile fails the call.
func makeSubPath(vol *os.File, sub string) error {
	names := splitPath(sub)
	i, base, err := deepestExisting(vol, names)
	if err != nil || i == len(names) {
		closeIf(base, vol)
		return err
	}
	defer closeIf(base, vol)
	st, err := vol.Stat()
	if err != nil {
		return err
	}
	d, err := mkdirAll(base, strings.Join(names[i:], "/"), uint32(st.Mode().Perm()))
	if err != nil {
		return err
	}
	return d.Close()
}

// deepestExisting opens the longest prefix of names that exists beneath
// vol and returns how many names it took (vol itself for none).
func deepestExisting(vol *os.File, names []string) (int, *os.File, error) {
	for i := len(names); i > 0; i-- {
		d, err := openat2(vol, strings.Join(names[:i], "/"), unix.O_PATH, 0, subPathResolve)
		if err == nil {
			return i, d, nil
		}
		if !errors.Is(err, unix.ENOENT) {
			return 0, nil, err
		}
	}
	return 0, vol, nil
}

func closeIf(f, keep *os.File) {
	if f != nil && f != keep {
		f.Close()
	}
}

// bindTarget makes the subPath's target (a directory or an empty file, as
// src is), unmounts what an earlier attempt mounted there, and binds src.
func (m *Manager) bindTarget(sp SubPath, src *os.File) (string, error) {
	pod, err := OpenTrusted(sp.PodDir)
	if err != nil {
		return "", err
	}
	defer pod.Close()
	rel := path.Join(SubPathDir, sp.Volume, sp.Container)
	parent, err := mkdirAll(pod, rel, 0o750)
	if err != nil {
		return "", err
	}
	defer parent.Close()
	name := strconv.Itoa(sp.Index)
	target := filepath.Join(sp.PodDir, rel, name)
	if err := m.unmountAll(target); err != nil {
		return "", err
	}
	st, err := src.Stat()
	if err != nil {
		return "", err
	}
	dst, err := makeTarget(parent, name, st.IsDir())
	if err != nil {
		return "", err
	}
	defer dst.Close()
	return target, m.mounter.Bind(src, dst)
}

// makeTarget creates (or keeps) name in parent as a directory or an empty
// file, replacing one of the other kind, and opens it O_PATH.
func makeTarget(parent *os.File, name string, dir bool) (*os.File, error) {
	for attempt := 0; ; attempt++ {
		f, err := openTarget(parent, name, dir)
		if err == nil || attempt > 0 || !(errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.EISDIR)) {
			return f, err
		}
		if err := removeAll(parent, name); err != nil {
			return nil, err
		}
	}
}

func openTarget(parent *os.File, name string, dir bool) (*os.File, error) {
	if dir {
		return mkdirOne(parent, name, 0o750)
	}
	f, err := openat2(parent, name, unix.O_RDONLY|unix.O_CREAT, 0o640, noFollow)
	if err != nil {
		return nil, err
	}
	f.Close()
	return openat2(parent, name, unix.O_PATH, 0, noFollow)
}
