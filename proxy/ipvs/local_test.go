package ipvs

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/proxy"
	pt "github.com/nodeagent/nodeagent/proxy/proxytest"
)

func entry(ip string, port uint16, proto corev1.Protocol) Entry {
	return Entry{IP: netip.MustParseAddr(ip), Port: port, Protocol: proto}
}

// TestComputeLocalSets: only Services with externalTrafficPolicy Local get
// entries, one per node IP for a node port (with its protocol), one per
// external and load-balancer IP; an address:port another Service took
// first gets none; Cluster policy and IPv6 get none.
func TestComputeLocalSets(t *testing.T) {
	b := pt.New("192.168.50.2", "192.168.60.2")
	loc := b.Service("ns", "a-local", "10.96.0.20", 80, pt.NodePort(30081), pt.ExternalIPs("203.0.113.7", "2001:db8::7"), pt.ExternalLocal,
		func(sp *proxy.ServicePort) { sp.LoadBalancerIPs = []netip.Addr{netip.MustParseAddr("198.51.100.9")} })
	b.Endpoints(loc, pt.Local("10.244.0.5", 8080))
	dns := b.Service("ns", "b-dns", "10.96.0.53", 53, pt.UDP, pt.NodePort(30053), pt.ExternalLocal)
	b.Endpoints(dns, pt.Local("10.244.0.7", 53))
	b.Service("ns", "c-cluster", "10.96.0.21", 80, pt.NodePort(30080), pt.ExternalIPs("203.0.113.8"))
	b.Service("ns", "d-late-local", "10.96.0.22", 80, pt.ExternalIPs("203.0.113.8"), pt.ExternalLocal) // c-cluster took 203.0.113.8:80
	got := Compute(b.Snapshot(), "rr").Sets
	want := map[string][]Entry{
		LocalNodePortSet: {entry("192.168.50.2", 30053, corev1.ProtocolUDP), entry("192.168.50.2", 30081, corev1.ProtocolTCP),
			entry("192.168.60.2", 30053, corev1.ProtocolUDP), entry("192.168.60.2", 30081, corev1.ProtocolTCP)},
		LocalExternalIPSet:   {entry("203.0.113.7", 80, corev1.ProtocolTCP)},
		LocalLoadBalancerSet: {entry("198.51.100.9", 80, corev1.ProtocolTCP)},
		LoopBackSet:          {entry("10.244.0.5", 8080, corev1.ProtocolTCP), entry("10.244.0.7", 53, corev1.ProtocolUDP)},
	}
	for _, s := range OwnSets() {
		if !slices.Equal(got[s.Name], want[s.Name]) {
			t.Errorf("%s = %v\nwant %v", s.Name, got[s.Name], want[s.Name])
		}
	}
}

// localSnapshot has a NodePort Service with an external and a
// load-balancer IP and a local endpoint, Local or not, and a Cluster
// NodePort Service.
func localSnapshot(local bool) *proxy.Snapshot {
	b := pt.New("192.168.50.2")
	edit := []func(*proxy.ServicePort){pt.NodePort(30081), pt.ExternalIPs("203.0.113.7"),
		func(sp *proxy.ServicePort) { sp.LoadBalancerIPs = []netip.Addr{netip.MustParseAddr("198.51.100.9")} }}
	if local {
		edit = append(edit, pt.ExternalLocal)
	}
	n := b.Service("ns", "local", "10.96.0.20", 80, edit...)
	b.Endpoints(n, pt.Local("10.244.0.5", 8080))
	c := b.Service("ns", "cluster", "10.96.0.21", 80, pt.NodePort(30080))
	b.Endpoints(c, pt.Local("10.244.0.6", 8080))
	return b.Snapshot()
}

var (
	client = netip.MustParseAddr("192.0.2.9")
	tcpP   = corev1.ProtocolTCP
)

// The whole path with the fakes: a client outside the pods reaching a
// Local Service's node port, external IP or load-balancer IP is not
// masqueraded (the backend sees its address); the Cluster Service's node
// port, the cluster IP from outside, a hairpin and the masquerade mark
// still are. Flipping to Cluster or deleting the Service removes the
// entries, and the same connection is masqueraded again.
func TestLocalPolicyIsNotMasqueraded(t *testing.T) {
	r := newRig(t)
	r.sync(t, localSnapshot(true), true)
	kept := []packet{
		{src: client, dst: netip.MustParseAddrPort("192.168.50.2:30081"), proto: tcpP},
		{src: client, dst: netip.MustParseAddrPort("203.0.113.7:80"), proto: tcpP},
		{src: client, dst: netip.MustParseAddrPort("198.51.100.9:80"), proto: tcpP},
	}
	masq := []packet{
		{src: client, dst: netip.MustParseAddrPort("192.168.50.2:30080"), proto: tcpP},                            // Cluster policy
		{src: client, dst: netip.MustParseAddrPort("10.96.0.20:80"), proto: tcpP},                                 // the cluster IP from outside
		{src: netip.MustParseAddr("10.244.0.5"), dst: netip.MustParseAddrPort("192.168.50.2:30081"), proto: tcpP}, // hairpin
		{src: client, dst: netip.MustParseAddrPort("192.168.50.2:30081"), proto: tcpP, mark: 0x4000},              // marked for masquerade
	}
	for _, p := range kept {
		if r.masqueraded(t, p) {
			t.Errorf("%s is masqueraded; externalTrafficPolicy Local must keep the client's address\n%s", p, r.r.Save())
		}
	}
	for _, p := range masq {
		if !r.masqueraded(t, p) {
			t.Errorf("%s is not masqueraded\n%s", p, r.r.Save())
		}
	}
	r.sync(t, localSnapshot(false), false)
	for _, s := range OwnSets()[1:] {
		if got, _ := r.sets().Entries(s); len(got) != 0 {
			t.Errorf("after the flip to Cluster %s holds %v", s.Name, got)
		}
	}
	for _, p := range kept {
		if !r.masqueraded(t, p) {
			t.Errorf("after the flip to Cluster %s is not masqueraded", p)
		}
	}
	r.sync(t, localSnapshot(true), false)
	r.sync(t, pt.New("192.168.50.2").Snapshot(), false)
	for _, s := range OwnSets() {
		if got, _ := r.sets().Entries(s); len(got) != 0 {
			t.Errorf("after the Services went %s holds %v", s.Name, got)
		}
	}
}

// The rule set stays fixed with Local Services too, and a stale entry in
// a LOCAL-* set (left by an earlier run) goes on a full sync.
func TestLocalSetsAreRepairedAndRulesFixed(t *testing.T) {
	r, plain := newRig(t), newRig(t)
	r.sync(t, localSnapshot(true), true)
	plain.sync(t, web(pt.Ready("10.244.1.3", 80)), true)
	if r.r.Save() != plain.r.Save() {
		t.Errorf("rules depend on the services:\n%s\nvs\n%s", r.r.Save(), plain.r.Save())
	}
	set := SetSpec{LocalNodePortSet, ipPortSetType}
	stale := entry("192.168.50.2", 31999, tcpP)
	r.sets().Add(set, stale)
	r.sync(t, localSnapshot(true), true)
	want := []Entry{entry("192.168.50.2", 30081, tcpP)}
	if got, _ := r.sets().Entries(set); !slices.Equal(got, want) {
		t.Errorf("%s = %v after a full sync, want %v", set.Name, got, want)
	}
}

// Cleanup removes the PREROUTING chain and its jump, then every set (the
// fake, like the kernel, refuses to destroy a set a rule still matches).
func TestCleanupRemovesLocalChainAndSets(t *testing.T) {
	r := newRig(t)
	r.sync(t, localSnapshot(true), true)
	if !strings.Contains(r.r.Save(), "-A PREROUTING -m comment --comment \"nodeagent ipvs\" -j "+ChainPrerouting) {
		t.Fatalf("no jump to %s:\n%s", ChainPrerouting, r.r.Save())
	}
	for range 2 {
		if err := r.b.Cleanup(context.Background()); err != nil {
			t.Fatalf("Cleanup: %v", err)
		}
		if strings.Contains(r.r.Save(), ChainPrefix) || len(r.sets().Names()) != 0 {
			t.Errorf("left after Cleanup: sets %v, rules:\n%s", r.sets().Names(), r.r.Save())
		}
	}
}

func TestNoMasqueradeBitIsChecked(t *testing.T) {
	for _, bit := range []int{-1, 32, 14} {
		cfg := DefaultConfig()
		cfg.NoMasqueradeBit = bit
		if _, _, _, _, err := NewFake(cfg, testingclock.NewFakeClock(time.Now())); err == nil || !strings.Contains(err.Error(), "no-masquerade bit") {
			t.Errorf("bit %d: %v, want an error naming the no-masquerade bit", bit, err)
		}
	}
}

func TestSetNamesFitTheKernel(t *testing.T) {
	for _, s := range OwnSets() {
		if len(s.Name) > maxSetName || !strings.HasPrefix(s.Name, ChainPrefix) {
			t.Errorf("ipset %s: longer than %d characters or not %s*", s.Name, maxSetName, ChainPrefix)
		}
	}
}
