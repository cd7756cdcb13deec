package volumes

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// One suite for the fake and, as root, the kernel's loop devices (on
// files in the test's temp directory, detached when it ends).

func TestFakeLoop(t *testing.T) { testLoop(t, NewFakeLoop()) }

func TestSystemLoop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for loop devices")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip("no loop devices:", err)
	}
	testLoop(t, SystemLoop{})
}

func testLoop(t *testing.T, l Loop) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		all, _ := l.List()
		for dev, file := range all {
			if strings.HasPrefix(file, dir+"/") {
				l.Detach(dev)
			}
		}
	})
	file := filepath.Join(dir, "vol.img")
	if err := os.WriteFile(file, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	dev, err := l.Attach(file)
	if err != nil {
		t.Fatal(err)
	}
	if devs, err := l.Find(file); err != nil || !slices.Equal(devs, []string{dev}) {
		t.Fatalf("Find = %v %v, want [%s]", devs, err, dev)
	}
	if _, err := l.Attach(file); !errors.Is(err, ErrAttached) {
		t.Fatalf("a second attach: %v, want ErrAttached", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	if devs, _ := l.Find(link); !slices.Equal(devs, []string{dev}) {
		t.Fatalf("Find by another path to the file = %v", devs)
	}
	if all, _ := l.List(); all[dev] != file {
		t.Fatalf("List()[%s] = %q, want %s", dev, all[dev], file)
	}
	if _, err := l.Attach(dir); err == nil {
		t.Fatal("a directory was attached")
	}
	for range 2 {
		if err := l.Detach(dev); err != nil {
			t.Fatal(err)
		}
	}
	if devs, _ := l.Find(file); len(devs) != 0 {
		t.Fatalf("still attached: %v", devs)
	}
	if err := l.Detach("/dev/sda"); err == nil {
		t.Fatal("Detach accepted a device that is no loop device")
	}
}
