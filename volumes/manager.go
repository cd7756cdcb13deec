package volumes

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Kind is a volume plugin, named as kubelet names its directories.
type Kind string

// The kinds the agent lays out in the pod's directory.
const (
	KindEmptyDir    Kind = "kubernetes.io~empty-dir"
	KindConfigMap   Kind = "kubernetes.io~configmap"
	KindSecret      Kind = "kubernetes.io~secret"
	KindDownwardAPI Kind = "kubernetes.io~downward-api"
	KindProjected   Kind = "kubernetes.io~projected"
)

// inMemory says whether the kind's files live on a tmpfs: secrets and what
// may hold them never touch the disk.
func (k Kind) inMemory() bool { return k == KindSecret || k == KindProjected || k == KindDownwardAPI }

// tmpfsOptions bound a projected volume's tmpfs: a Secret is at most about
// 1 MiB, written twice while a new version replaces the old.
const tmpfsOptions = "mode=0755,size=16m"

// Manager sets up and removes the volumes of the pods on this node.
type Manager struct {
	mounter   Mounter
	protected []string
	log       *slog.Logger
	now       func() time.Time
}

// NewManager returns a manager that mounts with mounter and refuses
// hostPath volumes inside any of the protected directories (the agent's
// own state).
func NewManager(mounter Mounter, protected []string, log *slog.Logger) *Manager {
	return &Manager{mounter: mounter, protected: protected, log: log, now: time.Now}
}

// Dir is where the pod's volume of this kind and name lives.
func Dir(podDir string, kind Kind, name string) string {
	return filepath.Join(podDir, "volumes", string(kind), name)
}

// EmptyDir makes the emptyDir volume's directory and returns it.
func (m *Manager) EmptyDir(podDir, name string) (string, error) {
	d, err := m.volumeDir(podDir, KindEmptyDir, name, 0o777)
	if err != nil {
		return "", err
	}
	return Dir(podDir, KindEmptyDir, name), d.Close()
}

// EmptyDirMemory makes the emptyDir volume's directory a tmpfs of size
// bytes (0: the kernel's default, half the memory), nosuid and nodev.
func (m *Manager) EmptyDirMemory(podDir, name string, size int64) (string, error) {
	d, err := m.volumeDir(podDir, KindEmptyDir, name, 0o777)
	if err != nil {
		return "", err
	}
	opts := "mode=0777"
	if size > 0 {
		opts += fmt.Sprintf(",size=%d", size)
	}
	if d, err = m.ensureTmpfs(podDir, KindEmptyDir, name, d, opts); err != nil {
		return "", err
	}
	return Dir(podDir, KindEmptyDir, name), d.Close()
}

// WriteFiles makes the volume's directory (a tmpfs for secrets and
// projected volumes) and writes files there with the atomic writer.
func (m *Manager) WriteFiles(podDir string, kind Kind, name string, files map[string]File) (string, error) {
	d, err := m.volumeDir(podDir, kind, name, 0o755)
	if err != nil {
		return "", err
	}
	if kind.inMemory() {
		d, err = m.ensureTmpfs(podDir, kind, name, d, tmpfsOptions)
		if err != nil {
			return "", err
		}
	}
	defer d.Close()
	if err := WriteAtomic(d, files, m.now()); err != nil {
		return "", fmt.Errorf("write volume %q: %w", name, err)
	}
	return Dir(podDir, kind, name), nil
}

// volumeDir creates <podDir>/volumes/<kind>/<name> following no symlink
// and opens it.
func (m *Manager) volumeDir(podDir string, kind Kind, name string, perm uint32) (*os.File, error) {
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("volume name: %w", err)
	}
	pod, err := OpenTrusted(podDir)
	if err != nil {
		return nil, err
	}
	defer pod.Close()
	parent, err := mkdirAll(pod, path.Join("volumes", string(kind)), 0o750)
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	return mkdirOne(parent, name, perm)
}

// ensureTmpfs mounts a tmpfs on the volume directory d unless one is
// there, and returns the directory opened anew (on the tmpfs).
func (m *Manager) ensureTmpfs(podDir string, kind Kind, name string, d *os.File, options string) (*os.File, error) {
	defer d.Close()
	dir := Dir(podDir, kind, name)
	mounted, err := m.isMountPoint(dir)
	if err != nil {
		return nil, err
	}
	if !mounted {
		if err := m.mounter.MountTmpfs(d, options); err != nil {
			return nil, err
		}
	}
	parent, err := OpenTrusted(filepath.Dir(dir))
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	return openDir(parent, name)
}

func (m *Manager) isMountPoint(dir string) (bool, error) {
	mounts, err := m.mounter.List(dir)
	if err != nil {
		return false, err
	}
	real, err := resolveDir(dir)
	for _, p := range mounts {
		if p == real {
			return true, err
		}
	}
	return false, err
}

// RemovePodDir unmounts everything beneath the pod's directory (subPath
// binds, tmpfs) and removes it, never going into a mount: when something
// stays mounted, nothing is removed. A missing directory is not an error.
func (m *Manager) RemovePodDir(podsDir, uid string) error {
	if err := ValidName(uid); err != nil {
		return fmt.Errorf("pod directory: %w", err)
	}
	dir := filepath.Join(podsDir, uid)
	if err := m.unmountAll(dir); err != nil {
		return err
	}
	parent, err := OpenTrusted(podsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer parent.Close()
	return removeAll(parent, uid)
}

// unmountAll unmounts every mount at or beneath dir and checks that none
// is left.
func (m *Manager) unmountAll(dir string) error {
	mounts, err := m.mounter.List(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range mounts {
		errs = append(errs, m.mounter.Unmount(p))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if left, err := m.mounter.List(dir); err != nil || len(left) > 0 {
		return errors.Join(err, fmt.Errorf("%w: still mounted beneath %s: %v", ErrMounted, dir, left))
	}
	return nil
}

// UnmountAll unmounts every mount at or beneath dir: `agent --cleanup`
// uses it on the pods' directory.
func (m *Manager) UnmountAll(dir string) error { return m.unmountAll(dir) }

// ValidName accepts one path name: not empty, not "." or "..", without a
// slash or NUL.
func ValidName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("%w: %q is not a single name", ErrInvalidPath, name)
	}
	return nil
}
