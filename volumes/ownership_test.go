package volumes

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSetOwnership gives a volume to its fsGroup as kubelet does (group,
// g+rw, directories g+xs), changes a symlink's group but never its
// target outside the volume, and with OnRootMismatch leaves a volume
// whose root matches alone.
func TestSetOwnership(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	base := t.TempDir()
	outside := writeTestFile(t, filepath.Join(base, "host"), "host")
	vol := mkdir(t, filepath.Join(base, "vol"))
	sub := mkdir(t, filepath.Join(vol, "sub"))
	file := writeTestFile(t, filepath.Join(sub, "f"), "x")
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(vol, "link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	if err := SetOwnership(vol, 1234, OwnershipAlways, false); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]uint32{vol: 0o2770, sub: 0o2775 &^ 0o005, file: 0o660} {
		st := lstat(t, p)
		if st.Gid != 1234 || st.Mode&0o7777&mode != mode {
			t.Errorf("%s: gid %d mode %o, want 1234 and at least %o", p, st.Gid, st.Mode&0o7777, mode)
		}
	}
	if st := lstat(t, link); st.Gid != 1234 {
		t.Errorf("symlink gid %d", st.Gid)
	}
	if st := lstat(t, outside); st.Gid == 1234 || st.Mode&0o7777 != 0o644 {
		t.Fatalf("the symlink's target outside the volume changed: gid %d mode %o", st.Gid, st.Mode&0o7777)
	}

	late := writeTestFile(t, filepath.Join(vol, "late"), "")
	if err := os.Chown(late, 0, 0); err != nil { // the setgid directory gave it 1234
		t.Fatal(err)
	}
	if err := SetOwnership(vol, 1234, OwnershipOnRootMismatch, false); err != nil {
		t.Fatal(err)
	}
	if st := lstat(t, late); st.Gid == 1234 {
		t.Error("OnRootMismatch walked a volume whose root matched")
	}
	if err := SetOwnership(vol, 99, OwnershipOnRootMismatch, true); err != nil {
		t.Fatal(err)
	}
	if st := lstat(t, late); st.Gid != 99 || st.Mode&0o440 != 0o440 {
		t.Errorf("OnRootMismatch with another group: gid %d mode %o", st.Gid, st.Mode&0o7777)
	}
}

func lstat(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st
}
