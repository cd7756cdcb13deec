package volumes

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// subPathEnv is a pod directory with an emptyDir volume, a host directory
// beside it (with the canary) and a manager over a fake mounter.
type subPathEnv struct {
	*volume
	podDir string
	fake   *Fake
	m      *Manager
}

func newSubPathEnv(t *testing.T) *subPathEnv {
	v := newVolume(t)
	podDir := mkdir(t, filepath.Join(filepath.Dir(v.dir), "pod"))
	fake := NewFake()
	return &subPathEnv{volume: v, podDir: podDir, fake: fake, m: NewManager(fake, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))}
}

func (e *subPathEnv) mount(sub string) (string, error) {
	return e.m.MountSubPath(SubPath{PodDir: e.podDir, Volume: "work", VolPath: e.dir, Container: "c", Index: 1, Path: sub})
}

// bound is what the fake has bound on target.
func (e *subPathEnv) bound(target string) string {
	return e.fake.Mounts()[target].Source
}

func TestSubPathInsideTheVolume(t *testing.T) {
	e := newSubPathEnv(t)
	mkdir(t, filepath.Join(e.dir, "real", "dir"))
	writeTestFile(t, filepath.Join(e.dir, "real", "file"), "f")
	e.symlink("real/dir", "rel") // a relative symlink that stays inside
	cases := map[string]string{
		"real/dir":        filepath.Join(e.dir, "real", "dir"),
		"real/file":       filepath.Join(e.dir, "real", "file"),
		"rel":             filepath.Join(e.dir, "real", "dir"),
		"./real//dir/":    filepath.Join(e.dir, "real", "dir"),
		"new/missing/dir": filepath.Join(e.dir, "new", "missing", "dir"),
		"real/dir/new":    filepath.Join(e.dir, "real", "dir", "new"),
		"":                e.dir,
	}
	for sub, want := range cases {
		target, err := e.mount(sub)
		if err != nil {
			t.Errorf("subPath %q: %v", sub, err)
			continue
		}
		if wantT := filepath.Join(e.podDir, SubPathDir, "work", "c", "1"); target != wantT {
			t.Errorf("subPath %q: target %s, want %s", sub, target, wantT)
		}
		if got := e.bound(target); got != want {
			t.Errorf("subPath %q: bound %s, want %s", sub, got, want)
		}
		if n := len(e.fake.Mounts()); n != 1 {
			t.Errorf("subPath %q: %d mounts, want the earlier one replaced", sub, n)
		}
	}
	if st, err := os.Stat(filepath.Join(e.dir, "new", "missing")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("a created subPath directory: %v %v, want the volume's mode", st, err)
	}
}

// TestSubPathEscapesAreRefused: symlinks planted in the volume (as an init
// container would) that lead out of it are refused, nothing is mounted and
// nothing is created outside.
func TestSubPathEscapesAreRefused(t *testing.T) {
	e := newSubPathEnv(t)
	host := filepath.Dir(e.canary)
	e.symlink("/", "root")
	e.symlink(host, "hostdir")
	e.symlink(e.canary, "hostfile")
	e.symlink("../..", "up")
	e.symlink("/nonexistent-"+filepath.Base(host), "dangling")
	mkdir(t, filepath.Join(e.dir, "sub"))
	e.symlink("../../canary", "sub/deep")
	// Out of the volume by name and back in: refused too (kubelet, which
	// resolves the whole path first, would take it).
	e.symlink("../vol/sub", "roundabout")
	for _, sub := range []string{"root", "root/etc", "hostdir", "hostdir/created", "hostfile", "up", "dangling", "sub/deep",
		"../canary", "/etc", "sub/../../canary", "roundabout"} {
		_, err := e.mount(sub)
		if err == nil {
			t.Errorf("subPath %q was mounted: %v", sub, e.fake.Mounts())
		}
		if len(e.fake.Mounts()) != 0 {
			t.Fatalf("subPath %q: mounts %v", sub, e.fake.Mounts())
		}
	}
	if _, err := os.Lstat(filepath.Join(host, "created")); !os.IsNotExist(err) {
		t.Error("a directory was created outside the volume")
	}
	if _, err := e.mount("root"); !errors.Is(err, ErrEscapes) {
		t.Errorf("an absolute symlink: %v, want ErrEscapes", err)
	}
	e.canaryIntact()
}

// TestSubPathRace swaps a directory of the volume with a symlink to the
// host while subPaths through it are mounted: no mount ever reaches the
// host, and no directory is created there.
func TestSubPathRace(t *testing.T) {
	e := newSubPathEnv(t)
	host := filepath.Dir(e.canary)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		a, tmp := filepath.Join(e.dir, "a"), filepath.Join(e.dir, "tmp")
		for {
			select {
			case <-stop:
				return
			default:
			}
			os.Remove(tmp)
			os.Symlink(host, tmp)
			os.Rename(tmp, a) // a is the symlink
			os.RemoveAll(a)
			os.Mkdir(a, 0o755) // a is a directory
		}
	}()
	defer func() { close(stop); <-done }()
	for range 300 {
		target, err := e.mount("a/b")
		if err != nil {
			continue
		}
		// (deleted): the racer removed the directory after the bind.
		if src := strings.TrimSuffix(e.bound(target), " (deleted)"); src != filepath.Join(e.dir, "a", "b") {
			t.Fatalf("bound %s", src)
		}
	}
	if _, err := os.Lstat(filepath.Join(host, "b")); !os.IsNotExist(err) {
		t.Fatal("a subPath directory was created through the symlink")
	}
}

func TestSubPathBadNames(t *testing.T) {
	e := newSubPathEnv(t)
	for _, sp := range []SubPath{
		{PodDir: e.podDir, Volume: "..", VolPath: e.dir, Container: "c", Path: "x"},
		{PodDir: e.podDir, Volume: "v", VolPath: e.dir, Container: "../c", Path: "x"},
	} {
		if _, err := e.m.MountSubPath(sp); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("%+v: %v", sp, err)
		}
	}
}
