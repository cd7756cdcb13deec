package volumes

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// volume is a volume directory in a temp dir, opened as the writer gets
// it, beside a canary file outside it.
type volume struct {
	t      *testing.T
	dir    string
	f      *os.File
	canary string
}

func newVolume(t *testing.T) *volume {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v := &volume{t: t, dir: mkdir(t, filepath.Join(base, "vol")), canary: filepath.Join(base, "canary")}
	writeTestFile(t, v.canary, "host file")
	if err := os.Chmod(v.canary, 0o600); err != nil {
		t.Fatal(err)
	}
	v.f, err = OpenTrusted(v.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.f.Close() })
	return v
}

func (v *volume) write(files map[string]File) {
	v.t.Helper()
	if err := WriteAtomic(v.f, files, t0); err != nil {
		v.t.Fatal(err)
	}
}

// read reads a file as a container would: through the visible names.
func (v *volume) read(p string) string {
	v.t.Helper()
	b, err := os.ReadFile(filepath.Join(v.dir, p))
	if err != nil {
		v.t.Fatal(err)
	}
	return string(b)
}

func (v *volume) names() []string {
	entries, err := os.ReadDir(v.dir)
	if err != nil {
		v.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// canaryIntact checks the canary's content and mode.
func (v *volume) canaryIntact() {
	v.t.Helper()
	st, err := os.Lstat(v.canary)
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		v.t.Fatalf("the canary outside the volume changed: %v %v", st, err)
	}
	if b, _ := os.ReadFile(v.canary); string(b) != "host file" {
		v.t.Fatalf("the canary outside the volume was written: %q", b)
	}
}

func (v *volume) symlink(target, name string) {
	v.t.Helper()
	p := filepath.Join(v.dir, name)
	if err := os.RemoveAll(p); err != nil {
		v.t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		v.t.Fatal(err)
	}
}

func TestWriteAtomicLayout(t *testing.T) {
	v := newVolume(t)
	v.write(map[string]File{"a": {Data: []byte("1"), Mode: 0o400}, "d/e/f": {Data: []byte("2"), Mode: 0o644}})
	names := v.names()
	if len(names) != 4 || names[0] != "..2026_12_06_10_00_00."+names[0][len(tsLayout):] || names[1] != dataLink ||
		names[2] != "a" || names[3] != "d" {
		t.Fatalf("volume holds %v", names)
	}
	for _, n := range []string{"a", "d"} {
		if l, err := os.Readlink(filepath.Join(v.dir, n)); err != nil || l != "..data/"+n {
			t.Errorf("%s -> %q %v, want ..data/%s", n, l, err, n)
		}
	}
	if l, _ := os.Readlink(filepath.Join(v.dir, dataLink)); l != names[0] {
		t.Errorf("..data -> %q, want %s", l, names[0])
	}
	if v.read("a") != "1" || v.read("d/e/f") != "2" {
		t.Fatal("contents differ")
	}
	if st, _ := os.Stat(filepath.Join(v.dir, "a")); st.Mode().Perm() != 0o400 {
		t.Errorf("mode %v, want 0400 whatever the umask", st.Mode())
	}
}

func TestWriteAtomicUpdates(t *testing.T) {
	v := newVolume(t)
	v.write(map[string]File{"a": {Data: []byte("1"), Mode: 0o644}, "b": {Data: []byte("x"), Mode: 0o644}})
	first := v.names()[0]
	v.write(map[string]File{"a": {Data: []byte("1"), Mode: 0o644}, "b": {Data: []byte("x"), Mode: 0o644}})
	if v.names()[0] != first {
		t.Fatal("an unchanged payload was written again")
	}
	v.write(map[string]File{"a": {Data: []byte("2"), Mode: 0o644}})
	names := v.names()
	if len(names) != 3 || names[0] == first || names[2] != "a" || v.read("a") != "2" {
		t.Fatalf("after the update: %v, a=%q", names, v.read("a"))
	}
	v.write(map[string]File{"a": {Data: []byte("2"), Mode: 0o600}})
	if st, _ := os.Stat(filepath.Join(v.dir, "a")); st.Mode().Perm() != 0o600 {
		t.Fatalf("a changed mode was not written: %v", st.Mode())
	}
}

// TestWriteAtomicDoesNotFollowPlantedSymlinks: whatever was replaced by a
// symlink to a host file (a visible name, ..data, a file of the current
// version), the next write neither writes nor removes the host file, and
// the volume is whole again.
func TestWriteAtomicDoesNotFollowPlantedSymlinks(t *testing.T) {
	files := map[string]File{"key": {Data: []byte("new"), Mode: 0o644}, "dir/key": {Data: []byte("n"), Mode: 0o644}}
	plant := map[string]func(v *volume){
		"visible name":   func(v *volume) { v.symlink(v.canary, "key") },
		"visible dir":    func(v *volume) { v.symlink(filepath.Dir(v.canary), "dir") },
		"..data":         func(v *volume) { v.symlink(filepath.Dir(v.canary), dataLink) },
		"version file":   func(v *volume) { v.symlink(v.canary, filepath.Join(v.names()[0], "key")) },
		"version dir":    func(v *volume) { v.symlink(filepath.Dir(v.canary), v.names()[0]) },
		"..data_tmp":     func(v *volume) { v.symlink(v.canary, dataLinkTmp) },
		"visible as dir": func(v *volume) { os.Remove(filepath.Join(v.dir, "key")); mkdir(t, filepath.Join(v.dir, "key", "x")) },
	}
	for name, f := range plant {
		t.Run(name, func(t *testing.T) {
			v := newVolume(t)
			v.write(map[string]File{"key": {Data: []byte("old"), Mode: 0o644}, "dir/key": {Data: []byte("o"), Mode: 0o644}})
			f(v)
			v.write(files)
			v.canaryIntact()
			if v.read("key") != "new" || v.read("dir/key") != "n" {
				t.Fatalf("the volume reads %q %q", v.read("key"), v.read("dir/key"))
			}
		})
	}
}

// TestWriteAtomicRace swaps a visible name between the writer's symlink
// and one to the canary while the writer rewrites the volume.
func TestWriteAtomicRace(t *testing.T) {
	v := newVolume(t)
	v.write(map[string]File{"key": {Data: []byte("0"), Mode: 0o644}})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tmp := filepath.Join(v.dir, "evil")
		for {
			select {
			case <-stop:
				return
			default:
			}
			os.Remove(tmp)
			os.Symlink(v.canary, tmp)
			os.Rename(tmp, filepath.Join(v.dir, "key"))
		}
	}()
	written := 0
	for i := range 200 {
		err := WriteAtomic(v.f, map[string]File{"key": {Data: []byte{byte('a' + i%26)}, Mode: 0o644}}, t0)
		if err == nil {
			written++
		}
	}
	close(stop)
	<-done
	v.canaryIntact()
	if written == 0 {
		t.Fatal("no write succeeded")
	}
	t.Logf("%d of 200 writes succeeded while the name was being swapped", written)
}

func TestWriteAtomicRefusesBadPaths(t *testing.T) {
	for _, p := range []string{"", ".", "/etc/passwd", "../x", "a/../../x", "..data", "..x/y", "a\x00b",
		strings.Repeat("n", 256), strings.Repeat("d/", 2049) + "f"} {
		v := newVolume(t)
		err := WriteAtomic(v.f, map[string]File{p: {Data: []byte("x"), Mode: 0o644}}, t0)
		if !errors.Is(err, ErrInvalidPath) {
			t.Errorf("path %q: %v, want ErrInvalidPath", p, err)
		}
		if len(v.names()) != 0 {
			t.Errorf("path %q: wrote %v", p, v.names())
		}
	}
	v := newVolume(t)
	err := WriteAtomic(v.f, map[string]File{"a": {}, "a/b": {}}, t0)
	if !errors.Is(err, ErrInvalidPath) {
		t.Errorf("a file and a directory of one name: %v", err)
	}
}
