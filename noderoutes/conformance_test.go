package noderoutes

import (
	"net"
	"net/netip"
	"os"
	"reflect"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// kernel is what the controller drives: the routing table and the device.
type kernel interface {
	Kernel
	Tunnel
}

// testKernel is one suite for the fake and for Netlink in a throwaway
// network namespace: the VXLAN device, its entries and onlink routes, as
// the controller relies on them. The kernel has the underlay 10.99.0.1 on
// a link of MTU 1400.
func testKernel(t *testing.T, k kernel) {
	u, err := k.Underlay(netipAddr("10.99.0.1"))
	if err != nil || u.MTU != 1400 {
		t.Fatalf("underlay %+v, %v", u, err)
	}
	if _, err := k.Underlay(netipAddr("10.99.0.7")); err == nil {
		t.Error("an address no link holds has an underlay")
	}
	d := DeviceFor(Self{PodCIDRs: []netip.Prefix{netipPrefix("10.244.1.0/24")}, IP: netipAddr("10.99.0.1")}, u)
	mac := ensure(t, k, d)
	d.Addr, d.MTU = netipPrefix("10.244.9.0/32"), 1300 // a new range, a smaller link: fixed in place
	if again := ensure(t, k, d); again != mac {
		t.Errorf("the same device made again: MAC %s, was %s", again, mac)
	}

	peer := "02:00:00:00:00:b0"
	mustDo(t, k.SetFDB(DeviceName, FDBEntry{MAC: peer, Dst: netipAddr("10.77.2.1")}))
	mustDo(t, k.SetFDB(DeviceName, FDBEntry{MAC: peer, Dst: netipAddr("10.77.2.9")})) // replaced, not added
	mustDo(t, k.SetNeighbor(DeviceName, Neighbor{IP: netipAddr("10.244.2.0"), MAC: peer}))
	onlink := Route{Dst: netipPrefix("10.244.2.0/24"), Gw: netipAddr("10.244.2.0"), Dev: DeviceName}
	mustDo(t, k.Replace(onlink))
	if fdb, err := k.FDB(DeviceName); err != nil || !reflect.DeepEqual(fdb, []FDBEntry{{MAC: peer, Dst: netipAddr("10.77.2.9")}}) {
		t.Errorf("fdb %v, %v", fdb, err)
	}
	if n, err := k.Neighbors(DeviceName); err != nil || !reflect.DeepEqual(n, []Neighbor{{IP: netipAddr("10.244.2.0"), MAC: peer}}) {
		t.Errorf("neighbours %v, %v", n, err)
	}
	if r, err := k.Owned(); err != nil || !reflect.DeepEqual(r, []Route{onlink}) {
		t.Errorf("owned routes %v, %v", r, err)
	}

	d.VNI = 2 // other VXLAN settings: made again, entries gone
	ensure(t, k, d)
	if fdb, _ := k.FDB(DeviceName); len(fdb) != 0 {
		t.Errorf("fdb %v kept across a new device", fdb)
	}
	if gone, err := k.DeleteDevice(DeviceName); !gone || err != nil {
		t.Fatalf("DeleteDevice: %v %v", gone, err)
	}
	if gone, err := k.DeleteDevice(DeviceName); gone || err != nil {
		t.Errorf("DeleteDevice of none: %v %v", gone, err)
	}
	n, err1 := k.Neighbors(DeviceName)
	f, err2 := k.FDB(DeviceName)
	r, err3 := k.Owned()
	if len(n)+len(f)+len(r) != 0 || err1 != nil || err2 != nil || err3 != nil {
		t.Errorf("with the device gone: neighbours %v fdb %v routes %v (%v %v %v)", n, f, r, err1, err2, err3)
	}
	if err := k.SetFDB(DeviceName, FDBEntry{MAC: peer, Dst: netipAddr("10.77.2.1")}); err == nil {
		t.Error("an FDB entry on no device")
	}
	if err := k.Replace(onlink); err == nil {
		t.Error("a route out of no device")
	}
	if err := k.Delete(onlink); err != nil {
		t.Errorf("deleting a route already gone with its device: %v", err)
	}
}

func ensure(t *testing.T, k kernel, d Device) string {
	t.Helper()
	mac, err := k.EnsureDevice(d)
	if err != nil || len(mac) != len("02:00:00:00:00:00") {
		t.Fatalf("EnsureDevice %+v: %q %v", d, mac, err)
	}
	return mac
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestFakeKernelConforms(t *testing.T) {
	k := newFakeKernel()
	k.underlays[netipAddr("10.99.0.1")] = Underlay{Index: 2, MTU: 1400}
	testKernel(t, k)
}

func TestNetlinkConforms(t *testing.T) {
	path := testNetNS(t)
	testKernel(t, netnsKernel{path})
	err := nsutil.Do(path, func() error {
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: DeviceName}}); err != nil {
			return err
		}
		_, err := Netlink{}.EnsureDevice(Device{Name: DeviceName, VNI: 1, Port: VXLANPort, Local: netipAddr("10.99.0.1"), MTU: 1350, Addr: netipPrefix("10.244.1.0/32")})
		if err == nil {
			t.Error("a bridge in the device's name was taken over")
		}
		_, err = netlink.LinkByName(DeviceName)
		return err
	})
	if err != nil {
		t.Fatalf("the bridge is gone: %v", err)
	}
}

// testNetNS is a new network namespace with the link "under" (a veth,
// 10.99.0.1/24, MTU 1400, up), removed when the test ends.
func testNetNS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	dir := t.TempDir()
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) }) // Create made it a mount point
	path, err := nsutil.Create(dir, "noderoutes-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nsutil.Remove(path) })
	err = nsutil.Do(path, func() error {
		l := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "under", MTU: 1400}, PeerName: "under-peer"}
		if err := netlink.LinkAdd(l); err != nil {
			return err
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP("10.99.0.1"), Mask: net.CIDRMask(24, 32)}}
		if err := netlink.AddrAdd(l, addr); err != nil {
			return err
		}
		return netlink.LinkSetUp(l)
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// netnsKernel is Netlink run inside the namespace at path.
type netnsKernel struct{ path string }

func in[T any](path string, f func() (T, error)) (T, error) {
	var out T
	err := nsutil.Do(path, func() (err error) {
		out, err = f()
		return err
	})
	return out, err
}

func do(path string, f func() error) error { return nsutil.Do(path, f) }

func (n netnsKernel) Owned() ([]Route, error) { return in(n.path, Netlink{}.Owned) }
func (n netnsKernel) Replace(r Route) error {
	return do(n.path, func() error { return Netlink{}.Replace(r) })
}
func (n netnsKernel) Delete(r Route) error {
	return do(n.path, func() error { return Netlink{}.Delete(r) })
}
func (n netnsKernel) Direct(gw netip.Addr) (bool, error) {
	return in(n.path, func() (bool, error) { return Netlink{}.Direct(gw) })
}
func (n netnsKernel) Underlay(a netip.Addr) (Underlay, error) {
	return in(n.path, func() (Underlay, error) { return Netlink{}.Underlay(a) })
}
func (n netnsKernel) EnsureDevice(d Device) (string, error) {
	return in(n.path, func() (string, error) { return Netlink{}.EnsureDevice(d) })
}
func (n netnsKernel) DeleteDevice(name string) (bool, error) {
	return in(n.path, func() (bool, error) { return Netlink{}.DeleteDevice(name) })
}
func (n netnsKernel) Neighbors(dev string) ([]Neighbor, error) {
	return in(n.path, func() ([]Neighbor, error) { return Netlink{}.Neighbors(dev) })
}
func (n netnsKernel) SetNeighbor(dev string, x Neighbor) error {
	return do(n.path, func() error { return Netlink{}.SetNeighbor(dev, x) })
}
func (n netnsKernel) DeleteNeighbor(dev string, x Neighbor) error {
	return do(n.path, func() error { return Netlink{}.DeleteNeighbor(dev, x) })
}
func (n netnsKernel) FDB(dev string) ([]FDBEntry, error) {
	return in(n.path, func() ([]FDBEntry, error) { return Netlink{}.FDB(dev) })
}
func (n netnsKernel) SetFDB(dev string, f FDBEntry) error {
	return do(n.path, func() error { return Netlink{}.SetFDB(dev, f) })
}
func (n netnsKernel) DeleteFDB(dev string, f FDBEntry) error {
	return do(n.path, func() error { return Netlink{}.DeleteFDB(dev, f) })
}
