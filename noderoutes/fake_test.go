package noderoutes

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// fakeKernel is a routing table (the owned routes, and which gateways are
// neighbours) and the VXLAN device with its neighbour and FDB tables. As
// the kernel, it refuses an entry on a device that is not there, and
// removing the device takes its routes and entries with it.
type fakeKernel struct {
	mu        sync.Mutex
	routes    map[netip.Prefix]Route
	neighbors map[netip.Addr]bool
	failAdd   map[netip.Prefix]bool
	calls     []string

	underlays map[netip.Addr]Underlay
	device    *Device // nil: none
	mac       string
	macs      int // MACs handed out, for the next one
	neigh     map[netip.Addr]string
	fdb       map[string]netip.Addr
}

var (
	_ Kernel = &fakeKernel{}
	_ Tunnel = &fakeKernel{}
)

func newFakeKernel(neighbors ...string) *fakeKernel {
	k := &fakeKernel{routes: map[netip.Prefix]Route{}, neighbors: map[netip.Addr]bool{}, failAdd: map[netip.Prefix]bool{},
		underlays: map[netip.Addr]Underlay{}, neigh: map[netip.Addr]string{}, fdb: map[string]netip.Addr{}}
	for _, n := range neighbors {
		k.neighbors[netip.MustParseAddr(n)] = true
	}
	return k
}

func (k *fakeKernel) Owned() ([]Route, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []Route
	for _, r := range k.routes {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Route) int { return a.Dst.Addr().Compare(b.Dst.Addr()) })
	return out, nil
}

func (k *fakeKernel) Replace(r Route) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, "replace "+r.String())
	if k.failAdd[r.Dst] {
		return fmt.Errorf("route %s: invalid argument", r)
	}
	if r.Dev != "" && (k.device == nil || k.device.Name != r.Dev) {
		return fmt.Errorf("route %s: no such device", r)
	}
	k.routes[r.Dst] = r
	return nil
}

func (k *fakeKernel) Delete(r Route) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, "delete "+r.String())
	delete(k.routes, r.Dst)
	return nil
}

func (k *fakeKernel) Direct(gw netip.Addr) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.neighbors[gw], nil
}

func (k *fakeKernel) Underlay(local netip.Addr) (Underlay, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	u, ok := k.underlays[local]
	if !ok {
		return Underlay{}, fmt.Errorf("no link holds %s, the node's InternalIP", local)
	}
	return u, nil
}

func (k *fakeKernel) EnsureDevice(d Device) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, "ensure "+d.Name)
	if k.device != nil && k.device.Name == d.Name {
		same := *k.device
		same.MTU, same.Addr = d.MTU, d.Addr
		if same == d {
			k.device = &d
			return k.mac, nil
		}
		k.deleteDevice()
	}
	k.macs++
	k.device, k.mac = &d, fmt.Sprintf("02:00:00:00:00:%02x", k.macs)
	return k.mac, nil
}

func (k *fakeKernel) DeleteDevice(name string) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.device == nil || k.device.Name != name {
		return false, nil
	}
	k.deleteDevice()
	return true, nil
}

func (k *fakeKernel) deleteDevice() {
	for dst, r := range k.routes {
		if r.Dev == k.device.Name {
			delete(k.routes, dst)
		}
	}
	k.device, k.mac = nil, ""
	k.neigh, k.fdb = map[netip.Addr]string{}, map[string]netip.Addr{}
}

func (k *fakeKernel) onDevice(dev string) error {
	if k.device == nil || k.device.Name != dev {
		return fmt.Errorf("%s: no such device", dev)
	}
	return nil
}

func (k *fakeKernel) Neighbors(dev string) ([]Neighbor, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []Neighbor
	for ip, mac := range k.neigh {
		out = append(out, Neighbor{IP: ip, MAC: mac})
	}
	return out, nil
}

func (k *fakeKernel) SetNeighbor(dev string, n Neighbor) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.onDevice(dev); err != nil {
		return err
	}
	k.neigh[n.IP] = n.MAC
	return nil
}

func (k *fakeKernel) DeleteNeighbor(dev string, n Neighbor) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.neigh, n.IP)
	return nil
}

func (k *fakeKernel) FDB(dev string) ([]FDBEntry, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []FDBEntry
	for mac, dst := range k.fdb {
		out = append(out, FDBEntry{MAC: mac, Dst: dst})
	}
	return out, nil
}

func (k *fakeKernel) SetFDB(dev string, f FDBEntry) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.onDevice(dev); err != nil {
		return err
	}
	k.fdb[f.MAC] = f.Dst
	return nil
}

func (k *fakeKernel) DeleteFDB(dev string, f FDBEntry) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.fdb, f.MAC)
	return nil
}

// table is the owned routes, destination -> "gw" or "gw dev name".
func (k *fakeKernel) table() map[string]string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string]string{}
	for d, r := range k.routes {
		out[d.String()] = r.Gw.String()
		if r.Dev != "" {
			out[d.String()] += " dev " + r.Dev
		}
	}
	return out
}

// tunnelState is the device (name, MAC, MTU, address), neighbours and FDB
// entries, as text.
func (k *fakeKernel) tunnelState() (dev string, neigh, fdb map[string]string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.device != nil {
		dev = fmt.Sprintf("%s mac %s mtu %d addr %s local %s", k.device.Name, k.mac, k.device.MTU, k.device.Addr, k.device.Local)
	}
	neigh, fdb = map[string]string{}, map[string]string{}
	for ip, mac := range k.neigh {
		neigh[ip.String()] = mac
	}
	for mac, dst := range k.fdb {
		fdb[mac] = dst.String()
	}
	return dev, neigh, fdb
}

// fakePublisher records what it was asked to publish, and patches the
// Node through publish (the fake clientset) as the real one does.
type fakePublisher struct {
	mu        sync.Mutex
	published []string
	publish   Publisher
}

func (p *fakePublisher) PublishMAC(ctx context.Context, mac string) error {
	p.mu.Lock()
	p.published = append(p.published, mac)
	p.mu.Unlock()
	return p.publish.PublishMAC(ctx, mac)
}

func netipPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func netipAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }
