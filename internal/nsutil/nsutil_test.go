package nsutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; this test needs root")
		}
		t.Skip("needs root to create network namespaces")
	}
}

func TestCreateDoRemove(t *testing.T) {
	requireRoot(t)
	host, err := InodeOf("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) }) // Create made it a mount point
	path, err := Create(dir, "nsutil-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Remove(path) })
	if _, err := Create(dir, "nsutil-test"); err == nil {
		t.Fatal("creating the same name twice succeeded")
	}

	if now, _ := InodeOf("/proc/self/ns/net"); now != host {
		t.Fatalf("Create left the main thread in another namespace: %v, was %v", now, host)
	}
	var links []netlink.Link
	err = Do(path, func() error {
		inside, err := InodeOf("/proc/thread-self/ns/net")
		if err != nil {
			return err
		}
		if inside == host {
			t.Errorf("Do ran in the host namespace: %v %v", inside, host)
		}
		links, err = netlink.LinkList()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || links[0].Attrs().Name != "lo" {
		t.Fatalf("a new namespace should hold only lo, got %v", links)
	}
	if after, _ := InodeOf("/proc/self/ns/net"); after != host {
		t.Fatalf("the calling thread was left in another namespace: %v %v", after, host)
	}

	cmd := exec.Command("sleep", "60")
	if err := Do(path, cmd.Start); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pids, err := PIDsIn(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) != 1 || pids[0] != cmd.Process.Pid {
		t.Fatalf("PIDsIn = %v, want [%d]", pids, cmd.Process.Pid)
	}

	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nsutil-test")); !os.IsNotExist(err) {
		t.Fatalf("netns file still there: %v", err)
	}
	if err := Remove(path); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
}
