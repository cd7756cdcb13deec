package lab

import (
	"bytes"
	"golang.org/x/sys/unix"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := map[string]bool{
		"demo": true, "e2e-1a2b": true, "a": true,
		"": false, "-a": false, "a-": false, "Demo": false, "a_b": false, "a.b": false,
		"this-name-is-much-too-long-for-a-lab-node-x": false,
	}
	for name, ok := range cases {
		err := DefaultConfig(name).Validate()
		if (err == nil) != ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", name, err, ok)
		}
	}
	c := DefaultConfig("x")
	c.ServiceCIDR = netip.Prefix{}
	if c.Validate() == nil {
		t.Error("a lab without a service CIDR was accepted")
	}
}

func TestOwnership(t *testing.T) {
	c := DefaultConfig("demo")
	cases := map[string]bool{
		"nalab-demo": true, "nalab-demo_pod1": true, c.MemberName("x"): true,
		"nalab-demo2": false, "nalab-demo-x": false, "nalab-dem": false, "demo": false,
	}
	for name, want := range cases {
		if got := c.ownsNamespace(name); got != want {
			t.Errorf("ownsNamespace(%q) = %v, want %v", name, got, want)
		}
	}
	for file, want := range map[string]string{"nalab-demo": "demo", "nalab-demo_pod": "", "other": ""} {
		got, ok := labName(file)
		if got != want || ok != (want != "") {
			t.Errorf("labName(%q) = %q %v, want %q", file, got, ok, want)
		}
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; this test needs root")
		}
		t.Skip("needs root to create network namespaces")
	}
}

// testConfig keeps the lab's namespaces and state in temp dirs, so that the
// test never collides with real labs.
func testConfig(t *testing.T) Config {
	c := DefaultConfig("unit")
	c.NetNSDir = t.TempDir()
	t.Cleanup(func() { unix.Unmount(c.NetNSDir, unix.MNT_DETACH) }) // lab.Up made it a mount point
	c.StateRoot = t.TempDir()
	return c
}

func TestUpDown(t *testing.T) {
	requireRoot(t)
	cfg := testConfig(t)
	n, err := Up(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Down() })
	if _, err := Up(cfg); err == nil {
		t.Fatal("a second lab of the same name was created")
	}

	links, err := n.Links()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, l := range links {
		names[l.Attrs().Name] = l.Attrs().Flags&1 == 1 // net.FlagUp
	}
	if !names["lo"] || !names[ServiceBridge] || len(names) != 2 {
		t.Fatalf("links %v: want lo and %s, both up", names, ServiceBridge)
	}
	routes, err := runCollect(n, exec.Command("ip", "route", "show"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "10.96.0.0/12 dev " + ServiceBridge + " scope link \n"; string(routes) != want {
		t.Fatalf("routes in the lab:\n%s\nwant exactly:\n%s", routes, want)
	}

	member, err := n.NewMemberNetNS("pod1")
	if err != nil {
		t.Fatal(err)
	}
	sleeper := exec.Command("sleep", "300")
	if err := n.Start(sleeper); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sleeper.Wait() }()
	os.WriteFile(filepath.Join(n.StateDir(), "reservation"), []byte("x"), 0o644)

	if err := n.Down(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("the process in the lab was not stopped")
	}
	for _, p := range []string{cfg.NetNSPath(), member, n.StateDir()} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Down (%v)", p, err)
		}
	}
	if err := n.Down(); err != nil {
		t.Fatalf("Down of a removed lab: %v", err)
	}
}

func runCollect(n *Node, cmd *exec.Cmd) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := n.Run(cmd)
	return out.Bytes(), err
}
