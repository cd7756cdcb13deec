package volumes

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestParseBlkid(t *testing.T) {
	for _, tc := range []struct {
		out, want string
		empty     bool // ErrNotEmpty
	}{
		{out: "DEVNAME=/dev/loop0\nTYPE=ext4\n", want: "ext4"},
		{out: "DEVNAME=/dev/loop0\nTYPE=xfs\n", want: "xfs"},
		{out: "DEVNAME=/dev/vdb\nPTTYPE=gpt\n", empty: true},
		{out: "DEVNAME=/dev/vdb\nTYPE=LVM2_member\n", empty: true},
		{out: "DEVNAME=/dev/vdb\nTYPE=swap\n", empty: true},
		{out: "DEVNAME=/dev/vdb\n", empty: true},
	} {
		got, err := parseBlkid("/dev/x", []byte(tc.out))
		if got != tc.want || errors.Is(err, ErrNotEmpty) != tc.empty {
			t.Errorf("parseBlkid(%q) = %q, %v", tc.out, got, err)
		}
	}
}

func TestMkfsArgs(t *testing.T) {
	if _, err := mkfsArgs("btrfs", nil); err == nil {
		t.Error("btrfs accepted")
	}
	for _, opts := range [][]string{{"-F"}, {"-f"}, {"/dev/sdb"}, {"-b", "4096", "/dev/sdb"}} {
		if _, err := mkfsArgs("ext4", opts); err == nil {
			t.Errorf("options %q accepted", opts)
		}
	}
	if args, err := mkfsArgs("xfs", []string{"-L", "data"}); err != nil || len(args) != 3 {
		t.Errorf("xfs -L data: %v %v", args, err)
	}
}

// TestSystemFormatter formats a regular file (mkfs and blkid work on
// files too; no root needed) and finds the filesystem again; a second
// xfs format is refused by mkfs.xfs itself.
func TestSystemFormatter(t *testing.T) {
	for _, tool := range []string{"blkid", "mkfs.ext4", "mkfs.xfs"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool, "is not installed")
		}
	}
	ctx := context.Background()
	f := SystemFormatter{}
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 320<<20); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Probe(ctx, img); err != nil || got != "" {
		t.Fatalf("probe of an empty file: %q %v", got, err)
	}
	if err := f.Format(ctx, img, "xfs", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Probe(ctx, img); err != nil || got != "xfs" {
		t.Fatalf("probe: %q %v", got, err)
	}
	if err := f.Format(ctx, img, "xfs", nil); err == nil {
		t.Fatal("mkfs.xfs formatted over a filesystem")
	}
}
