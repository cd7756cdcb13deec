package iptables

import (
	"net/netip"
	"testing"
)

// The tracer itself, on hand-written rules: goto, RETURN, negation, MARK
// and mark matches, probabilities of nested statistic matches.
func TestTracerSemantics(t *testing.T) {
	f := NewFake()
	in := `*nat
:A - [0:0]
:B - [0:0]
:C - [0:0]
-A PREROUTING -d 10.0.0.1/32 -j A
-A PREROUTING -d 10.0.0.2/32 -g B
-A PREROUTING -d 10.0.0.2/32 -j DNAT --to-destination 10.9.9.9:1
-A A ! -s 10.1.0.0/16 -j RETURN
-A A -m statistic --mode random --probability 0.25 -j C
-A A -j DNAT --to-destination 10.2.0.2:2
-A B -j RETURN
-A C -j MARK --set-xmark 0x10/0x10
-A C -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.3.0.3:3
-A POSTROUTING -m mark --mark 0x10/0x10 -j MASQUERADE
COMMIT
`
	if err := restore(t, f, in); err != nil {
		t.Fatal(err)
	}
	env := TraceEnv{}
	run := func(src, dst string) []Path {
		t.Helper()
		paths, err := f.Trace(Packet{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: "tcp", DPort: 80}, env)
		if err != nil {
			t.Fatal(err)
		}
		return paths
	}
	// From outside 10.1/16: A returns; nothing else matches.
	if p := run("10.7.0.1", "10.0.0.1"); len(p) != 1 || p[0].DNAT {
		t.Errorf("negated source: %+v", p)
	}
	// From inside: 1/4 into C, of which 1/2 DNATs to .3 (marked, so
	// masqueraded); the rest falls back to A's last rule, unmarked or marked.
	share := map[string]float64{}
	masq := map[string]bool{}
	for _, p := range run("10.1.0.1", "10.0.0.1") {
		share[p.Dest.String()] += p.Probability
		masq[p.Dest.String()+map[bool]string{true: " masq", false: ""}[p.Masquerade]] = true
	}
	if share["10.3.0.3:3"] != 0.125 || share["10.2.0.2:2"] != 0.875 {
		t.Errorf("shares %v, want .125 and .875", share)
	}
	if !masq["10.3.0.3:3 masq"] || !masq["10.2.0.2:2 masq"] || !masq["10.2.0.2:2"] || masq["10.3.0.3:3"] {
		t.Errorf("masquerade outcomes %v", masq)
	}
	// A goto chain's RETURN goes back to the caller's caller: PREROUTING
	// is left, so the DNAT after the goto is not reached.
	if p := run("10.1.0.1", "10.0.0.2"); len(p) != 1 || p[0].DNAT {
		t.Errorf("goto then RETURN: %+v", p)
	}
}

func TestTracerRefusesUnknownMatches(t *testing.T) {
	f := NewFake()
	if err := restore(t, f, "*nat\n-A PREROUTING -m owner --uid-owner 0 -j RETURN\nCOMMIT\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Trace(Packet{Src: podClient, Dst: nodeAddr, Proto: "tcp", DPort: 1}, TraceEnv{}); err == nil {
		t.Error("trace guessed an unknown match")
	}
}
