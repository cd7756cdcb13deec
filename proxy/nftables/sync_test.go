package nftables

import (
	"context"
	"fmt"
	"math/rand"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/proxy"
	pt "github.com/nodeagent/nodeagent/proxy/proxytest"
)

func TestDump(t *testing.T) {
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80, pt.NodePort(30080))
	b.Endpoints(web, pt.Ready("10.244.1.5", 8080), pt.Ready("10.244.2.6", 8080))
	b.Service("ns", "empty", "10.96.0.11", 53, pt.UDP)
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	var elems []string
	for _, line := range strings.Split(fake.Dump(), "\n") {
		if strings.HasPrefix(line, "add element ") {
			elems = append(elems, strings.TrimPrefix(line, "add element ip nodeagent "))
		}
	}
	want := []string{
		"cluster-ips { 10.96.0.10 . tcp . 80 }",
		"cluster-ips { 10.96.0.11 . udp . 53 }",
		"hairpin { 10.244.1.5 . 10.244.1.5 }",
		"hairpin { 10.244.2.6 . 10.244.2.6 }",
		"masq-nodeports { tcp . 30080 }",
		"node-ips { 192.168.1.2 }",
		"reject-ips { 10.96.0.11 . udp . 53 }",
		"np-2 { tcp . 30080 . 0 : 10.244.1.5 . 8080 }",
		"np-2 { tcp . 30080 . 1 : 10.244.2.6 . 8080 }",
		"svc-2 { 10.96.0.10 . tcp . 80 . 0 : 10.244.1.5 . 8080 }",
		"svc-2 { 10.96.0.10 . tcp . 80 . 1 : 10.244.2.6 . 8080 }",
	}
	if got := strings.Join(elems, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("elements:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	for _, rule := range []string{
		"add rule ip nodeagent services dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 2 map @svc-2",
		"add rule ip nodeagent services ip daddr @node-ips dnat ip to meta l4proto . th dport . numgen random mod 2 map @np-2",
		"add rule ip nodeagent services ip saddr != 10.244.0.0/16 ip daddr . meta l4proto . th dport @cluster-ips meta mark set meta mark | 0x4000",
		"add chain ip nodeagent nat-prerouting { type nat hook prerouting priority -100 ; }",
	} {
		if !strings.Contains(fake.Dump(), rule+"\n") {
			t.Errorf("dump lacks %q", rule)
		}
	}
	// The pinned counts' maps are there, empty; none beyond them.
	if !strings.Contains(fake.Dump(), "add map ip nodeagent svc-1 ") ||
		strings.Contains(fake.Dump(), fmt.Sprintf("svc-%d ", pinnedCounts+1)) || strings.Contains(fake.Dump(), "goto aff") {
		t.Errorf("pinned maps missing, or unused maps or affinity chains in the dump:\n%s", fake.Dump())
	}
}

// bigSnapshot has n services with three endpoints each.
func bigSnapshot(n int) (*pt.Builder, []proxy.ServicePortName) {
	b := pt.New(nodeIP)
	names := make([]proxy.ServicePortName, n)
	for i := range n {
		ip := fmt.Sprintf("10.96.%d.%d", i/250, i%250+1)
		names[i] = b.Service("ns", fmt.Sprintf("svc-%d", i), ip, 80, pt.NodePort(int32(30000+i%2000)))
		b.Endpoints(names[i], pt.Ready(fmt.Sprintf("10.244.%d.%d", i/250, i%250+1), 8080),
			pt.Ready(fmt.Sprintf("10.245.%d.%d", i/250, i%250+1), 8080), pt.Ready(fmt.Sprintf("10.246.%d.%d", i/250, i%250+1), 8080))
	}
	return b, names
}

func TestPartialSyncTouchesOnlyTheChangedService(t *testing.T) {
	b, names := bigSnapshot(300)
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	s := b.Snapshot()
	s.Endpoints[names[7]][1].IP = mustAddr("10.250.0.1")
	mustSync(t, p, s, false)
	tx := fake.LastTransaction.String()
	// One svc-3 and one np-3 element replaced (delete + add each), the
	// old hairpin pair deleted and the new one added.
	if n := fake.LastTransaction.NumOperations(); n != 6 {
		t.Errorf("%d operations, want 6:\n%s", n, tx)
	}
	for _, line := range strings.Split(strings.TrimSpace(tx), "\n") {
		if !strings.Contains(line, "10.245.0.8") && !strings.Contains(line, "10.250.0.1") &&
			!strings.Contains(line, "10.96.0.8 . tcp . 80 . 1 }") && !strings.Contains(line, "tcp . 30007 . 1 }") {
			t.Errorf("operation not about the changed endpoint: %s", line)
		}
	}
	assertBalanced(t, newTracer(t, fake, nodeIP).trace(tcp(podIP, "10.96.0.8", 80)), false,
		"10.244.0.8:8080", "10.250.0.1:8080", "10.246.0.8:8080")
}

func TestRemovedServiceLeavesNothing(t *testing.T) {
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80)
	b.Endpoints(web, pt.Ready("10.244.1.5", 8080))
	aff := b.Service("ns", "aff", "10.96.0.99", 443, pt.NodePort(30443), pt.Affinity(60), pt.ExternalIPs("203.0.113.7"))
	b.Endpoints(aff, pt.Ready("10.244.9.9", 8443), pt.Ready("10.244.9.8", 8443))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	s := b.Snapshot()
	delete(s.Services, aff)
	delete(s.Endpoints, aff)
	mustSync(t, p, s, false)
	for _, gone := range []string{"10.96.0.99", "10.244.9.", "30443", "203.0.113.7", "aff-"} {
		if strings.Contains(fake.Dump(), gone) {
			t.Errorf("%q still in the table:\n%s", gone, fake.Dump())
		}
	}
	assertVerdict(t, newTracer(t, fake, nodeIP).trace(tcp(podIP, "10.96.0.99", 443)), "accept")
	full, q := newFakeProxier()
	mustSync(t, q, s, true)
	if sortedDump(fake) != sortedDump(full) {
		t.Errorf("partial result differs from a full sync:\n%s\n---\n%s", sortedDump(fake), sortedDump(full))
	}
}

// TestPartialEqualsFull applies random changes with partial syncs (and
// every 20th with a full one) and checks that the table always equals
// what a full sync into an empty table writes.
func TestPartialEqualsFull(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	b, names := bigSnapshot(40)
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	for step := range 200 {
		s := b.Snapshot()
		n := names[rng.Intn(len(names))]
		switch rng.Intn(6) {
		case 0:
			s.Endpoints[n] = s.Endpoints[n][:rng.Intn(len(s.Endpoints[n])+1)]
		case 1:
			b.Endpoints(n, pt.Local(fmt.Sprintf("10.247.0.%d", step%250+1), 8080))
		case 2:
			s.Services[n].AffinityTimeout = int32(rng.Intn(2) * 300)
		case 3:
			s.Services[n].ExternalLocal = !s.Services[n].ExternalLocal
			s.Services[n].ExternalIPs = []netip.Addr{mustAddr("203.0.113.7")}
		case 4:
			s.Services[n].InternalLocal = !s.Services[n].InternalLocal
		case 5:
			if len(s.Endpoints[n]) > 0 {
				s.Endpoints[n][0].Ready = !s.Endpoints[n][0].Ready
				s.Endpoints[n][0].Terminating = !s.Endpoints[n][0].Ready
			}
		}
		mustSync(t, p, s, step%20 == 19) // now and then a full sync over the table
		full, q := newFakeProxier()
		mustSync(t, q, s, true)
		if sortedDump(fake) != sortedDump(full) {
			t.Fatalf("step %d: partial result differs from a full sync:\n%s", step, lineDiff(sortedDump(fake), sortedDump(full)))
		}
	}
}

func TestNothingChangedSendsNothing(t *testing.T) {
	b, _ := bigSnapshot(10)
	nft := &recordingNFT{Interface: knftables.NewFake(Family, TableName)}
	p := New(proxy.DefaultConfig(), nft, nil)
	mustSync(t, p, b.Snapshot(), true)
	nft.last = nil
	mustSync(t, p, b.Snapshot(), false)
	if nft.last != nil {
		t.Fatalf("nft run for no change:\n%s", nft.last)
	}
	// And the state is still known: the next change is partial.
	s := b.Snapshot()
	for _, eps := range s.Endpoints {
		eps[0].IP = mustAddr("10.250.0.1")
		break
	}
	mustSync(t, p, s, false)
	if nft.last == nil || strings.Contains(nft.last.String(), "add table") {
		t.Fatalf("the change after no change was not partial:\n%s", nft.last)
	}
}

func TestCleanup(t *testing.T) {
	b, _ := bigSnapshot(3)
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	for range 2 { // idempotent
		if err := p.Cleanup(context.Background()); err != nil {
			t.Fatal(err)
		}
		if fake.Table != nil || fake.Dump() != "" {
			t.Fatalf("table left:\n%s", fake.Dump())
		}
	}
	// The next sync after a cleanup writes everything.
	mustSync(t, p, b.Snapshot(), false)
	fresh, q := newFakeProxier()
	mustSync(t, q, b.Snapshot(), true)
	if fake.Table == nil || sortedDump(fake) != sortedDump(fresh) {
		t.Fatalf("sync after cleanup was not full:\n%s", fake.Dump())
	}
}

func TestMode(t *testing.T) {
	if _, p := newFakeProxier(); p.Mode() != "nftables" {
		t.Fatal(p.Mode())
	}
}

// TestHairpinOnlyForEndpointsThatMayBeHere: only a pod on this node can
// reach itself through this node's DNAT, so an endpoint on another named
// node gets no hairpin pair; one here, or of unknown node, does.
func TestHairpinOnlyForEndpointsThatMayBeHere(t *testing.T) {
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80)
	elsewhere := pt.Ready("10.244.3.7", 8080)
	elsewhere.NodeName = "node-b"
	b.Endpoints(web, pt.Local("10.244.1.5", 8080), pt.Ready("10.244.2.6", 8080), elsewhere)
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	var pairs []string
	for _, line := range strings.Split(fake.Dump(), "\n") {
		if pair, ok := strings.CutPrefix(line, "add element ip nodeagent hairpin "); ok {
			pairs = append(pairs, pair)
		}
	}
	if want := []string{"{ 10.244.1.5 . 10.244.1.5 }", "{ 10.244.2.6 . 10.244.2.6 }"}; !slices.Equal(pairs, want) {
		t.Errorf("hairpin pairs %q, want %q (none for node-b's endpoint)", pairs, want)
	}
	// the partial sync that leaves only node-b's endpoint takes the pairs out
	s := b.Snapshot()
	s.Endpoints[web] = []proxy.Endpoint{elsewhere}
	mustSync(t, p, s, false)
	for _, line := range strings.Split(fake.Dump(), "\n") {
		if strings.HasPrefix(line, "add element ip nodeagent hairpin ") {
			t.Errorf("after the partial sync a pair is left: %s", line)
		}
	}
}
