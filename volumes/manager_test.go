package volumes

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

type podEnv struct {
	t       *testing.T
	podsDir string
	podDir  string
	host    string // a host directory with a canary, outside the pod
	m       *Manager
}

func newPodEnv(t *testing.T, mounter Mounter) *podEnv {
	base := mountDir(t, mounter)
	e := &podEnv{t: t, podsDir: mkdir(t, filepath.Join(base, "pods")), host: mkdir(t, filepath.Join(base, "host"))}
	e.podDir = mkdir(t, filepath.Join(e.podsDir, "uid1"))
	writeTestFile(t, filepath.Join(e.host, "canary"), "host file")
	e.m = NewManager(mounter, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return e
}

func (e *podEnv) hostIntact() {
	e.t.Helper()
	if b, err := os.ReadFile(filepath.Join(e.host, "canary")); err != nil || string(b) != "host file" {
		e.t.Fatalf("the host directory was touched: %q %v", b, err)
	}
}

func TestSecretVolumeIsOnATmpfs(t *testing.T) {
	fake := NewFake()
	e := newPodEnv(t, fake)
	files := map[string]File{"k": {Data: []byte("v"), Mode: 0o600}}
	for range 2 {
		dir, err := e.m.WriteFiles(e.podDir, KindSecret, "s", files)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(e.podDir, "volumes", "kubernetes.io~secret", "s"); dir != want {
			t.Fatalf("dir %s, want %s", dir, want)
		}
	}
	mounts := fake.Mounts()
	dir := Dir(e.podDir, KindSecret, "s")
	if len(mounts) != 1 || mounts[dir].Type != "tmpfs" || mounts[dir].Options != tmpfsOptions {
		t.Fatalf("mounts %+v, want one tmpfs on %s", mounts, dir)
	}
	if _, err := e.m.WriteFiles(e.podDir, KindConfigMap, "c", files); err != nil {
		t.Fatal(err)
	}
	if len(fake.Mounts()) != 1 {
		t.Fatalf("a configMap volume got a mount: %+v", fake.Mounts())
	}
}

func TestRemovePodDirUnmountsFirst(t *testing.T) {
	fake := NewFake()
	e := newPodEnv(t, fake)
	if _, err := e.m.WriteFiles(e.podDir, KindSecret, "s", map[string]File{"k": {Data: []byte("v"), Mode: 0o600}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.MountSubPath(SubPath{PodDir: e.podDir, Volume: "h", VolPath: e.host, Container: "c", Path: "."}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := e.m.RemovePodDir(e.podsDir, "uid1"); err != nil {
			t.Fatal(err)
		}
	}
	if len(fake.Mounts()) != 0 {
		t.Fatalf("left mounted: %+v", fake.Mounts())
	}
	if _, err := os.Stat(e.podDir); !os.IsNotExist(err) {
		t.Fatalf("the pod directory is still there: %v", err)
	}
	e.hostIntact()
	for _, uid := range []string{"", ".", "..", "../uid1", "a/b"} {
		if err := e.m.RemovePodDir(e.podsDir, uid); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("uid %q: %v", uid, err)
		}
	}
	if _, err := os.Stat(e.host); err != nil {
		t.Fatal(err)
	}
}

// TestRemovePodDirWithRealMounts: a secret tmpfs and a subPath bind of a
// host directory are unmounted before the pod directory goes, and the host
// directory keeps its files.
func TestRemovePodDirWithRealMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	e := newPodEnv(t, System{})
	if _, err := e.m.WriteFiles(e.podDir, KindSecret, "s", map[string]File{"k": {Data: []byte("v"), Mode: 0o600}}); err != nil {
		t.Fatal(err)
	}
	target, err := e.m.MountSubPath(SubPath{PodDir: e.podDir, Volume: "h", VolPath: e.host, Container: "c", Path: "."})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(target, "canary")); err != nil || string(b) != "host file" {
		t.Fatalf("through the subPath mount: %q %v", b, err)
	}
	if err := e.m.RemovePodDir(e.podsDir, "uid1"); err != nil {
		t.Fatal(err)
	}
	if got := list(t, System{}, e.podsDir); len(got) != 0 {
		t.Fatalf("left mounted: %v", got)
	}
	if _, err := os.Stat(e.podDir); !os.IsNotExist(err) {
		t.Fatalf("the pod directory is still there: %v", err)
	}
	e.hostIntact()
}

// TestRemoveNeverGoesIntoAMount: removal that meets a mount point (one
// the unmount missed) stops there and deletes nothing in it.
func TestRemoveNeverGoesIntoAMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	e := newPodEnv(t, System{})
	target := mkdir(t, filepath.Join(e.podDir, "volume-subpaths", "h", "c", "0"))
	if err := (System{}).Bind(open(t, e.host), open(t, target)); err != nil {
		t.Fatal(err)
	}
	pods, err := OpenTrusted(e.podsDir)
	if err != nil {
		t.Fatal(err)
	}
	defer pods.Close()
	if err := removeAll(pods, "uid1"); !errors.Is(err, ErrMounted) {
		t.Fatalf("removeAll over a mount: %v, want ErrMounted", err)
	}
	e.hostIntact()
}
