package volumes

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// The same suite runs against the fake and, as root, against the kernel
// (mounts in temp directories of the host's mount namespace, removed when
// the test ends, also when it fails).

func TestFakeMounter(t *testing.T) {
	testMounter(t, func(*testing.T) Mounter { return NewFake() })
}

func TestSystemMounter(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	testMounter(t, func(*testing.T) Mounter { return System{} })
}

func testMounter(t *testing.T, newMounter func(*testing.T) Mounter) {
	t.Run("tmpfs", func(t *testing.T) { testTmpfs(t, newMounter(t)) })
	t.Run("bind", func(t *testing.T) { testBind(t, newMounter(t)) })
	t.Run("kinds must match", func(t *testing.T) { testBindKinds(t, newMounter(t)) })
	t.Run("unmount follows no symlink", func(t *testing.T) { testUnmountNoFollow(t, newMounter(t)) })
	t.Run("deepest first", func(t *testing.T) { testDeepestFirst(t, newMounter(t)) })
	t.Run("read-only bind", func(t *testing.T) { testBindReadOnly(t, newMounter(t)) })
	t.Run("source", func(t *testing.T) { testSource(t, newMounter(t)) })
}

// mountDir is a temp directory whose mounts are removed at the end.
func mountDir(t *testing.T, m Mounter) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mounts, _ := m.List(dir)
		for _, p := range mounts {
			if err := m.Unmount(p); err != nil {
				unix.Unmount(p, unix.MNT_DETACH)
			}
		}
	})
	return dir
}

func mkdir(t *testing.T, p string) string {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeTestFile(t *testing.T, p, content string) string {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func open(t *testing.T, p string) *os.File {
	t.Helper()
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), p)
	t.Cleanup(func() { f.Close() })
	return f
}

func list(t *testing.T, m Mounter, dir string) []string {
	t.Helper()
	got, err := m.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func testTmpfs(t *testing.T, m Mounter) {
	dir := mountDir(t, m)
	target := mkdir(t, filepath.Join(dir, "secret"))
	if err := m.MountTmpfs(open(t, target), "size=1m,mode=0755"); err != nil {
		t.Fatal(err)
	}
	if got := list(t, m, dir); !slices.Equal(got, []string{target}) {
		t.Fatalf("mounts %v, want [%s]", got, target)
	}
	if err := m.MountTmpfs(open(t, writeTestFile(t, filepath.Join(dir, "f"), "")), ""); err == nil {
		t.Error("a tmpfs on a file must be refused")
	}
	for range 2 { // the second time: nothing mounted, no error
		if err := m.Unmount(target); err != nil {
			t.Fatal(err)
		}
	}
	if got := list(t, m, dir); len(got) != 0 {
		t.Fatalf("left mounted: %v", got)
	}
}

func testBind(t *testing.T, m Mounter) {
	dir := mountDir(t, m)
	src := writeTestFile(t, filepath.Join(mkdir(t, filepath.Join(dir, "vol")), "key"), "v")
	dst := writeTestFile(t, filepath.Join(dir, "target"), "")
	if err := m.Bind(open(t, src), open(t, dst)); err != nil {
		t.Fatal(err)
	}
	if got := list(t, m, dir); !slices.Equal(got, []string{dst}) {
		t.Fatalf("mounts %v", got)
	}
	if _, real := m.(System); real {
		if b, _ := os.ReadFile(dst); string(b) != "v" {
			t.Fatalf("the target reads %q, want the source's content", b)
		}
	}
	if err := m.Unmount(dst); err != nil {
		t.Fatal(err)
	}
	if got := list(t, m, dir); len(got) != 0 {
		t.Fatalf("left mounted: %v", got)
	}
}

func testBindKinds(t *testing.T, m Mounter) {
	dir := mountDir(t, m)
	d := mkdir(t, filepath.Join(dir, "d"))
	f := writeTestFile(t, filepath.Join(dir, "f"), "")
	if err := m.Bind(open(t, d), open(t, f)); err == nil {
		t.Error("a directory bound on a file")
	}
	if err := m.Bind(open(t, f), open(t, d)); err == nil {
		t.Error("a file bound on a directory")
	}
	if got := list(t, m, dir); len(got) != 0 {
		t.Fatalf("mounted: %v", got)
	}
}

func testUnmountNoFollow(t *testing.T, m Mounter) {
	dir := mountDir(t, m)
	target := mkdir(t, filepath.Join(dir, "t"))
	if err := m.MountTmpfs(open(t, target), "size=1m"); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := m.Unmount(link); err != nil && !errors.Is(err, unix.EINVAL) {
		t.Fatal(err)
	}
	if got := list(t, m, dir); !slices.Equal(got, []string{target}) {
		t.Fatalf("unmounting a symlink reached its target: mounts %v", got)
	}
}

func testDeepestFirst(t *testing.T, m Mounter) {
	dir := mountDir(t, m)
	outer := mkdir(t, filepath.Join(dir, "a"))
	if err := m.MountTmpfs(open(t, outer), "size=1m"); err != nil {
		t.Fatal(err)
	}
	inner := mkdir(t, filepath.Join(outer, "b", "c"))
	if err := m.MountTmpfs(open(t, inner), "size=1m"); err != nil {
		t.Fatal(err)
	}
	if got := list(t, m, dir); !slices.Equal(got, []string{inner, outer}) {
		t.Fatalf("mounts %v, want the inner one first", got)
	}
	if got := list(t, m, filepath.Join(dir, "a", "b")); !slices.Equal(got, []string{inner}) {
		t.Fatalf("mounts beneath a/b: %v", got)
	}
}

func testBindReadOnly(t *testing.T, m Mounter) {
	dir := mountDir(t, m)
	src := mkdir(t, filepath.Join(dir, "vol"))
	writeTestFile(t, filepath.Join(src, "key"), "v")
	dst := mkdir(t, filepath.Join(dir, "target"))
	if err := m.BindReadOnly(open(t, src), open(t, dst)); err != nil {
		t.Fatal(err)
	}
	if got := list(t, m, dir); !slices.Equal(got, []string{dst}) {
		t.Fatalf("mounts %v", got)
	}
	if _, real := m.(System); real {
		if b, _ := os.ReadFile(filepath.Join(dst, "key")); string(b) != "v" {
			t.Fatalf("the target reads %q", b)
		}
		if err := os.WriteFile(filepath.Join(dst, "new"), nil, 0o644); !errors.Is(err, unix.EROFS) {
			t.Fatalf("write through a read-only bind: %v, want EROFS", err)
		}
		if err := os.WriteFile(filepath.Join(src, "new"), nil, 0o644); err != nil {
			t.Fatalf("the source became read-only: %v", err)
		}
	} else if got := m.(*Fake).Mounts()[dst]; got.Options != "ro" {
		t.Fatalf("fake mount %+v, want ro", got)
	}
	if err := m.Unmount(dst); err != nil {
		t.Fatal(err)
	}
}

func testSource(t *testing.T, m Mounter) {
	dir := mountDir(t, m)
	target := mkdir(t, filepath.Join(dir, "t"))
	if got, err := m.Source(target); err != nil || got != "" {
		t.Fatalf("source of an unmounted directory: %q %v", got, err)
	}
	if err := m.MountTmpfs(open(t, target), "size=1m"); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Source(target); err != nil || got != "tmpfs" {
		t.Fatalf("source %q %v, want tmpfs", got, err)
	}
}

func TestMountFlags(t *testing.T) {
	flags, data := MountFlags([]string{"noatime,ro", "discard", "nodev", "rw", "data=ordered", ""})
	if flags != unix.MS_NOATIME|unix.MS_NODEV || data != "discard,data=ordered" {
		t.Fatalf("flags %#x data %q", flags, data)
	}
}
