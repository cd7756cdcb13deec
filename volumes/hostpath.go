package volumes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// A hostPath volume may name any path of the node, as in Kubernetes (it is
// for trusted pods: restrict it with admission). Two things are stricter
// than kubelet, so that a pod cannot turn the agent against the node:
//   - the path is resolved (symlinks followed) and the resolved path is
//     what the runtime gets; one inside the agent's own state (its root
//     directory: other pods' volumes, secrets, its keys) is refused, also
//     when a symlink leads there;
//   - DirectoryOrCreate and FileOrCreate create what is missing one name
//     at a time beneath the deepest existing directory, following no
//     symlink, so that a symlink planted meanwhile fails the call rather
//     than making the agent create a path elsewhere.
// The type checks are kubelet's, with its messages.

// ErrProtected says that a hostPath lies inside the agent's own state.
var ErrProtected = errors.New("inside the node agent's own state")

// HostPath checks and prepares a hostPath volume and returns the path to
// give the runtime.
func (m *Manager) HostPath(src *corev1.HostPathVolumeSource) (string, error) {
	p := src.Path
	if !filepath.IsAbs(p) || strings.Contains(p, "\x00") {
		return "", fmt.Errorf("invalid HostPath %q: must be an absolute path", p)
	}
	if err := validateSubPath(strings.TrimPrefix(p, "/")); err != nil {
		return "", fmt.Errorf("invalid HostPath %q: must not contain '..'", p)
	}
	anc, rest, err := resolveExisting(p)
	if err != nil {
		return "", fmt.Errorf("hostPath %s: %w", p, err)
	}
	resolved := filepath.Join(append([]string{anc}, rest...)...)
	if err := m.checkProtected(p, resolved); err != nil {
		return "", err
	}
	typ := corev1.HostPathUnset
	if src.Type != nil {
		typ = *src.Type
	}
	if err := checkType(p, typ, anc, rest); err != nil {
		return "", err
	}
	return resolved, nil
}

// resolveExisting resolves the longest existing prefix of p (symlinks
// followed) and returns it with the names of p that do not exist below it.
func resolveExisting(p string) (string, []string, error) {
	var rest []string
	for cur := filepath.Clean(p); ; cur = filepath.Dir(cur) {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return real, rest, nil
		}
		if !errors.Is(err, os.ErrNotExist) || cur == "/" {
			return "", nil, err
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
	}
}

// checkProtected refuses a resolved path at or inside a protected
// directory.
func (m *Manager) checkProtected(p, resolved string) error {
	for _, dir := range m.protected {
		anc, rest, err := resolveExisting(dir)
		if err != nil {
			return err
		}
		real := filepath.Join(append([]string{anc}, rest...)...)
		if resolved == real || strings.HasPrefix(resolved, strings.TrimSuffix(real, "/")+"/") {
			return fmt.Errorf("hostPath %s (%s) is refused: %w (%s)", p, resolved, ErrProtected, dir)
		}
	}
	return nil
}

// checkType runs kubelet's type check on the resolved path; the
// ...OrCreate types first create what is missing.
func checkType(p string, typ corev1.HostPathType, anc string, rest []string) error {
	resolved := filepath.Join(append([]string{anc}, rest...)...)
	missing := len(rest) > 0
	switch typ {
	case corev1.HostPathUnset:
		return nil
	case corev1.HostPathDirectoryOrCreate, corev1.HostPathFileOrCreate:
		dir := typ == corev1.HostPathDirectoryOrCreate
		if err := create(anc, rest, dir); err != nil {
			return fmt.Errorf("hostPath %s: %w", p, err)
		}
		typ, missing = corev1.HostPathFile, false
		if dir {
			typ = corev1.HostPathDirectory
		}
	case corev1.HostPathDirectory, corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev:
	default:
		return fmt.Errorf("%s is an invalid volume type", typ)
	}
	if missing {
		return fmt.Errorf("hostPath %s doesn't exist", p)
	}
	return matchType(p, typ, resolved)
}

// create makes the missing names beneath the existing directory anc:
// directories, or directories and a last file (FileOrCreate, whose parent
// must exist, as in kubelet).
func create(anc string, rest []string, dir bool) error {
	if len(rest) == 0 {
		return nil
	}
	base, err := openResolved(anc)
	if err != nil {
		return err
	}
	defer base.Close()
	if dir {
		d, err := mkdirAll(base, strings.Join(rest, "/"), 0o755)
		if err != nil {
			return err
		}
		return d.Close()
	}
	if len(rest) > 1 {
		return &os.PathError{Op: "create", Path: filepath.Join(anc, rest[0]), Err: unix.ENOENT}
	}
	f, err := openat2(base, rest[0], unix.O_RDONLY|unix.O_CREAT, 0o644, noFollow)
	if err != nil {
		return err
	}
	if err := chmodPath(f, 0o644); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// openResolved opens a path whose symlinks were resolved, following none:
// one that appeared since fails.
func openResolved(p string) (*os.File, error) {
	root, err := OpenTrusted("/")
	if err != nil {
		return nil, err
	}
	defer root.Close()
	rel := strings.TrimPrefix(p, "/")
	if rel == "" {
		rel = "."
	}
	return openat2(root, rel, unix.O_PATH, 0, unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_NO_MAGICLINKS)
}

// matchType checks that the resolved path is of the type, with kubelet's
// messages.
func matchType(p string, want corev1.HostPathType, resolved string) error {
	f, err := openResolved(resolved)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("hostPath %s doesn't exist", p)
	}
	if err != nil {
		return fmt.Errorf("hostPath %s: %w", p, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("hostPath %s: %w", p, err)
	}
	if got := fileType(st.Mode()); got != want {
		return fmt.Errorf("hostPath type check failed: %s is not a %s, it's a %s", p, typeDescription(want), typeName(got))
	}
	return nil
}

func fileType(m os.FileMode) corev1.HostPathType {
	switch {
	case m.IsDir():
		return corev1.HostPathDirectory
	case m.IsRegular():
		return corev1.HostPathFile
	case m&os.ModeSocket != 0:
		return corev1.HostPathSocket
	case m&os.ModeCharDevice != 0:
		return corev1.HostPathCharDev
	case m&os.ModeDevice != 0:
		return corev1.HostPathBlockDev
	}
	return ""
}

func typeName(t corev1.HostPathType) string {
	if t == "" {
		return "file of another type"
	}
	return string(t)
}

func typeDescription(t corev1.HostPathType) string {
	switch t {
	case corev1.HostPathDirectory:
		return "directory"
	case corev1.HostPathFile:
		return "file"
	case corev1.HostPathSocket:
		return "socket file"
	case corev1.HostPathCharDev:
		return "character device"
	}
	return "block device"
}
