package volumes

import (
	"os"
	"path/filepath"
	"testing"
)

// DiskUsageAndInodes counts what a volume holds and no more: a symlink is
// one inode of its own, never its target's blocks.
func TestDiskUsageAndInodes(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "big"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "sub", "f"), make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "big"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	bytes, inodes, err := DiskUsageAndInodes(dir)
	if err != nil {
		t.Fatal(err)
	}
	if inodes != 4 { // dir, sub, sub/f, link
		t.Errorf("inodes %d, want 4", inodes)
	}
	if bytes < 64<<10 || bytes >= 1<<20 {
		t.Errorf("bytes %d: want sub/f's 64 KiB and not the link's target", bytes)
	}
	if only, err := DiskUsage(dir); err != nil || only != bytes {
		t.Errorf("DiskUsage %d %v, want %d", only, err, bytes)
	}
}
