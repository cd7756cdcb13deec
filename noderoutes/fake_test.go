package noderoutes

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// fakeKernel is a routing table: the owned routes, and which gateways are
// neighbours.
type fakeKernel struct {
	mu        sync.Mutex
	routes    map[netip.Prefix]netip.Addr
	neighbors map[netip.Addr]bool
	failAdd   map[netip.Prefix]bool
	calls     []string
}

func newFakeKernel(neighbors ...string) *fakeKernel {
	k := &fakeKernel{routes: map[netip.Prefix]netip.Addr{}, neighbors: map[netip.Addr]bool{}, failAdd: map[netip.Prefix]bool{}}
	for _, n := range neighbors {
		k.neighbors[netip.MustParseAddr(n)] = true
	}
	return k
}

func (k *fakeKernel) Owned() ([]Route, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []Route
	for d, g := range k.routes {
		out = append(out, Route{Dst: d, Gw: g})
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
	k.routes[r.Dst] = r.Gw
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

func (k *fakeKernel) table() map[string]string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string]string{}
	for d, g := range k.routes {
		out[d.String()] = g.String()
	}
	return out
}

func netipPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func netipAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }
