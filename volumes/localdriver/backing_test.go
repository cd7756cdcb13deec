package localdriver

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/volumes"
)

// TestBackingFiles: the held volumes are the regular .img files (and
// removal markers) of the backing directory; a removal refuses a file a
// loop device holds and a planted symlink (neither followed nor removed),
// empties the data behind a marker, and is finished by FinishRemoval;
// both steps may be repeated.
func TestBackingFiles(t *testing.T) {
	f := newFakes(t)
	d := f.driver(nil)
	ctx := context.Background()
	if held, err := d.HeldVolumes(); err != nil || len(held) != 0 {
		t.Fatalf("no backing directory: %v %v", held, err)
	}
	v := f.fileVolume(t, "pv-1", false)
	if fileBacked, exists, err := d.BackingFile(v.id, v.attrs); !fileBacked || exists || err != nil {
		t.Fatalf("before the stage: file-backed %v, exists %v, %v", fileBacked, exists, err)
	}
	if err := v.stage(ctx, d); err != nil {
		t.Fatal(err)
	}
	if fileBacked, exists, err := d.BackingFile(v.id, v.attrs); !fileBacked || !exists || err != nil {
		t.Fatalf("after the stage: file-backed %v, exists %v, %v", fileBacked, exists, err)
	}
	if fileBacked, _, _ := d.BackingFile("disk", map[string]string{AttrBacking: BackingDevice, AttrPath: "/dev/vdb"}); fileBacked {
		t.Fatal("a device volume is file-backed")
	}
	dir := filepath.Join(f.dir, "volumes-backing")
	outside := filepath.Join(f.dir, "precious")
	for name, data := range map[string]string{"notes.txt": "x", ".img": "x", outside: "keep"} {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, name)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "planted.img")); err != nil {
		t.Fatal(err)
	}
	if held, err := d.HeldVolumes(); err != nil || !slices.Equal(held, []volumes.HeldFile{{Handle: "pv-1"}}) {
		t.Fatalf("held %v %v", held, err)
	}

	if err := d.RemoveBackingFile(ctx, "pv-1"); err == nil || !strings.Contains(err.Error(), "is attached to") {
		t.Fatalf("removing a staged volume's file: %v", err)
	}
	if err := d.RemoveBackingFile(ctx, "planted"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("removing a symlink: %v", err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Fatalf("the symlink's target: %q", b)
	}
	if err := v.unstage(d); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := d.RemoveBackingFile(ctx, "pv-1"); err != nil {
			t.Fatal(err)
		}
	}
	marker := filepath.Join(dir, "pv-1.removing")
	if st, err := os.Stat(marker); err != nil || st.Size() != 0 {
		t.Fatalf("the removal marker: %v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pv-1.img")); !os.IsNotExist(err) {
		t.Fatalf("the backing file: %v", err)
	}
	if held, _ := d.HeldVolumes(); !slices.Equal(held, []volumes.HeldFile{{Handle: "pv-1", Removing: true}}) {
		t.Fatalf("held while removing: %v", held)
	}
	for range 2 {
		if err := d.FinishRemoval("pv-1"); err != nil {
			t.Fatal(err)
		}
	}
	if held, _ := d.HeldVolumes(); len(held) != 0 {
		t.Fatalf("held after the removal: %v", held)
	}
	if err := d.RemoveBackingFile(ctx, "../precious"); err == nil {
		t.Fatal("a handle that is a path was accepted")
	}
}
