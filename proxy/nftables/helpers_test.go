package nftables

import (
	"context"
	"math"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/proxy"
)

const (
	nodeIP   = "192.168.1.2"
	podIP    = "10.244.3.3"
	outsider = "192.168.1.50"
)

// newFakeProxier is a Proxier on a strict fake (the fake's table is
// what tests look at).
func newFakeProxier() (*knftables.Fake, *Proxier) {
	fake := knftables.NewFake(Family, TableName)
	return fake, New(proxy.DefaultConfig(), strictNFT{fake}, nil)
}

func mustSync(t testing.TB, p *Proxier, s *proxy.Snapshot, full bool) {
	t.Helper()
	if err := p.Sync(context.Background(), s, full); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

func tcp(src, dst string, port int) packet {
	return packet{src: netip.MustParseAddr(src), dst: netip.MustParseAddr(dst), proto: "tcp", dport: port}
}

func fromNode(p packet) packet {
	p.fromNode = true
	return p
}

// reached sums the probability of each accepted destination.
func reached(outs []outcome) map[string]float64 {
	m := map[string]float64{}
	for _, o := range outs {
		if o.verdict == "accept" {
			m[o.dst.String()] += o.weight
		}
	}
	return m
}

// assertBalanced says the packet is always accepted, reaches exactly eps,
// each with an equal share, and is masqueraded or not as masq says.
func assertBalanced(t *testing.T, outs []outcome, masq bool, eps ...string) {
	t.Helper()
	got := reached(outs)
	var names []string
	for k := range got {
		names = append(names, k)
	}
	sort.Strings(names)
	sort.Strings(eps)
	if strings.Join(names, " ") != strings.Join(eps, " ") {
		t.Fatalf("reached %v, want %v (outcomes %+v)", names, eps, outs)
	}
	for _, ep := range eps {
		if math.Abs(got[ep]-1/float64(len(eps))) > 1e-9 {
			t.Errorf("%s gets %.3f of the traffic, want %.3f", ep, got[ep], 1/float64(len(eps)))
		}
	}
	for _, o := range outs {
		if o.masq != masq {
			t.Errorf("to %s: masqueraded=%t, want %t", o.dst, o.masq, masq)
		}
	}
}

// assertVerdict says every outcome is verdict.
func assertVerdict(t *testing.T, outs []outcome, verdict string) {
	t.Helper()
	if len(outs) == 0 {
		t.Fatal("no outcome")
	}
	for _, o := range outs {
		if o.verdict != verdict {
			t.Fatalf("verdict %q (to %s), want %q", o.verdict, o.dst, verdict)
		}
	}
}

// sortedDump is the fake's dump with its lines sorted: the same content
// whatever order the elements were added in.
func sortedDump(f *knftables.Fake) string {
	lines := strings.Split(strings.TrimSpace(f.Dump()), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// lineDiff lists the lines only in a (-) and only in b (+).
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
