package volumes

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// hostEnv is a host directory tree with the agent's root directory in it.
type hostEnv struct {
	t    *testing.T
	base string // a stand-in for the node's /
	root string // the agent's root directory (protected)
	m    *Manager
}

func newHostEnv(t *testing.T) *hostEnv {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root := mkdir(t, filepath.Join(base, "var", "lib", "agent"))
	mkdir(t, filepath.Join(root, "pods", "uid1", "volumes", "kubernetes.io~secret", "s"))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &hostEnv{t: t, base: base, root: root, m: NewManager(NewFake(), []string{root}, log)}
}

func (e *hostEnv) p(rel string) string { return filepath.Join(e.base, rel) }

func hostPath(p string, typ corev1.HostPathType) *corev1.HostPathVolumeSource {
	return &corev1.HostPathVolumeSource{Path: p, Type: &typ}
}

func TestHostPathIntoTheAgentsStateIsRefused(t *testing.T) {
	e := newHostEnv(t)
	mkdir(t, e.p("data"))
	if err := os.Symlink(e.root, e.p("data/link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../var/lib", e.p("data/rel")); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*corev1.HostPathVolumeSource{
		hostPath(e.root, corev1.HostPathUnset),
		hostPath(e.root+"/", corev1.HostPathDirectory),
		hostPath(filepath.Join(e.root, "pods/uid1/volumes/kubernetes.io~secret/s"), corev1.HostPathDirectory),
		hostPath(e.p("data/link"), corev1.HostPathUnset),
		hostPath(e.p("data/link/pods"), corev1.HostPathDirectory),
		hostPath(e.p("data/rel/agent/pods"), corev1.HostPathUnset),
		hostPath(e.p("data/link/pods/new"), corev1.HostPathDirectoryOrCreate),
		hostPath(e.p("data/link/new"), corev1.HostPathFileOrCreate),
	} {
		if _, err := e.m.HostPath(h); !errors.Is(err, ErrProtected) {
			t.Errorf("hostPath %s: %v, want it refused", h.Path, err)
		}
	}
	for _, p := range []string{"pods/new", "new"} {
		if _, err := os.Lstat(filepath.Join(e.root, p)); !os.IsNotExist(err) {
			t.Errorf("%s was created in the agent's state", p)
		}
	}
	// Beside the state, and its parents: allowed, as in Kubernetes.
	for _, p := range []string{e.p("var/lib"), e.p("var/lib/agent2"), e.base} {
		if _, err := e.m.HostPath(hostPath(p, corev1.HostPathUnset)); err != nil {
			t.Errorf("hostPath %s: %v", p, err)
		}
	}
}

func TestHostPathResolvesSymlinks(t *testing.T) {
	e := newHostEnv(t)
	mkdir(t, e.p("real/dir"))
	if err := os.Symlink("real", e.p("link")); err != nil {
		t.Fatal(err)
	}
	got, err := e.m.HostPath(hostPath(e.p("link/dir"), corev1.HostPathDirectory))
	if err != nil || got != e.p("real/dir") {
		t.Fatalf("resolved %q %v, want %s", got, err, e.p("real/dir"))
	}
	got, err = e.m.HostPath(hostPath(e.p("link/new/deeper"), corev1.HostPathDirectoryOrCreate))
	if err != nil || got != e.p("real/new/deeper") {
		t.Fatalf("DirectoryOrCreate: %q %v", got, err)
	}
	if st, err := os.Lstat(e.p("real/new/deeper")); err != nil || !st.IsDir() || st.Mode().Perm() != 0o755 {
		t.Fatalf("created: %v %v", st, err)
	}
}

// TestHostPathCreateFollowsNoSymlink: a dangling symlink where a directory
// or file is to be created (as a container with a hostPath of the parent
// could plant) makes the call fail; nothing is created at its target.
func TestHostPathCreateFollowsNoSymlink(t *testing.T) {
	e := newHostEnv(t)
	mkdir(t, e.p("shared"))
	for name, typ := range map[string]corev1.HostPathType{"d": corev1.HostPathDirectoryOrCreate, "f": corev1.HostPathFileOrCreate} {
		target := e.p("elsewhere-" + name)
		if err := os.Symlink(target, e.p("shared/"+name)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.m.HostPath(hostPath(e.p("shared/"+name), typ)); err == nil {
			t.Errorf("%s: created through a dangling symlink", typ)
		}
		if _, err := os.Lstat(target); !os.IsNotExist(err) {
			t.Errorf("%s: %s was created", typ, target)
		}
	}
}

func TestHostPathTypes(t *testing.T) {
	e := newHostEnv(t)
	mkdir(t, e.p("dir"))
	writeTestFile(t, e.p("file"), "")
	l, err := net.Listen("unix", e.p("sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cases := []struct {
		path string
		typ  corev1.HostPathType
		err  string // "" for success
	}{
		{"dir", corev1.HostPathDirectory, ""},
		{"file", corev1.HostPathDirectory, "hostPath type check failed: %s is not a directory, it's a File"},
		{"missing", corev1.HostPathDirectory, "hostPath %s doesn't exist"},
		{"file", corev1.HostPathFile, ""},
		{"dir", corev1.HostPathFile, "hostPath type check failed: %s is not a file, it's a Directory"},
		{"sock", corev1.HostPathSocket, ""},
		{"file", corev1.HostPathSocket, "hostPath type check failed: %s is not a socket file, it's a File"},
		{"file", corev1.HostPathCharDev, "is not a character device"},
		{"file", corev1.HostPathBlockDev, "is not a block device"},
		{"file", corev1.HostPathDirectoryOrCreate, "is not a directory"},
		{"dir", corev1.HostPathFileOrCreate, "is not a file"},
		{"new-file", corev1.HostPathFileOrCreate, ""},
		{"no-parent/new-file", corev1.HostPathFileOrCreate, "no such file or directory"},
		{"missing", corev1.HostPathUnset, ""},
		{"dir", "Bogus", "Bogus is an invalid volume type"},
	}
	for _, c := range cases {
		p := e.p(c.path)
		_, err := e.m.HostPath(hostPath(p, c.typ))
		want := c.err
		if strings.Contains(want, "%s") {
			want = strings.ReplaceAll(want, "%s", p)
		}
		if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("%s %s: %v, want %q", c.path, c.typ, err, want)
		}
	}
	if _, err := e.m.HostPath(hostPath("/dev/null", corev1.HostPathCharDev)); err != nil {
		t.Errorf("/dev/null CharDevice: %v", err)
	}
	for _, p := range []string{"relative/path", "/a/../etc"} {
		if _, err := e.m.HostPath(hostPath(p, corev1.HostPathUnset)); err == nil || !strings.Contains(err.Error(), "invalid HostPath") {
			t.Errorf("%s: %v", p, err)
		}
	}
}
