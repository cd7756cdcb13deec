package iptables

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/proxytest"
)

const nodeIP = "192.168.0.10"

var (
	podClient      = netip.MustParseAddr("10.244.7.7")
	outsideClient  = netip.MustParseAddr("192.168.0.99")
	nodeAddr       = netip.MustParseAddr(nodeIP)
	testEnv        = TraceEnv{LocalIPs: []netip.Addr{nodeAddr}}
	discardLogger  = slog.New(slog.NewTextHandler(io.Discard, nil))
	threeEndpoints = []proxy.Endpoint{proxytest.Ready("10.244.1.1", 8080), proxytest.Ready("10.244.2.2", 8080),
		proxytest.Ready("10.244.3.3", 8080)}
)

func newTest(t testing.TB) (*Proxier, *Fake) {
	t.Helper()
	f := NewFake()
	return New(proxy.DefaultConfig(), f, discardLogger), f
}

func mustSync(t testing.TB, p *Proxier, s *proxy.Snapshot, full bool) {
	t.Helper()
	if err := p.Sync(context.Background(), s, full); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// trace follows a TCP packet and fails the test on a tracer error.
func trace(t testing.TB, f *Fake, src netip.Addr, dst string, local bool, env TraceEnv) []Path {
	t.Helper()
	ap := netip.MustParseAddrPort(dst)
	paths, err := f.Trace(Packet{Src: src, Dst: ap.Addr(), Proto: "tcp", DPort: ap.Port(), Local: local}, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("trace found no path")
	}
	return paths
}

// outcome sums up paths: the sorted set of accepted destinations, and the
// set of verdicts and of masquerade flags seen.
type outcome struct {
	dests    []string
	verdicts []string
	masq     []bool
}

func summarize(paths []Path) outcome {
	var o outcome
	for _, p := range paths {
		if p.Verdict == "ACCEPT" {
			o.dests = appendUnique(o.dests, p.Dest.String())
		}
		o.verdicts = appendUnique(o.verdicts, p.Verdict)
		if !slices.Contains(o.masq, p.Masquerade) {
			o.masq = append(o.masq, p.Masquerade)
		}
	}
	slices.Sort(o.dests)
	slices.Sort(o.verdicts)
	return o
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// expectReach checks every path is accepted, ends at one of want (all of
// them reachable), and is masqueraded as masq says.
func expectReach(t *testing.T, paths []Path, masq bool, want ...string) {
	t.Helper()
	o := summarize(paths)
	slices.Sort(want)
	if !slices.Equal(o.verdicts, []string{"ACCEPT"}) || !slices.Equal(o.dests, want) {
		t.Fatalf("reached %v with verdicts %v, want %v accepted\n%s", o.dests, o.verdicts, want, describe(paths))
	}
	if !slices.Equal(o.masq, []bool{masq}) {
		t.Fatalf("masquerade %v, want always %v\n%s", o.masq, masq, describe(paths))
	}
	for _, p := range paths {
		if !p.DNAT {
			t.Fatalf("path not DNATed: %+v", p)
		}
	}
}

func expectVerdict(t *testing.T, paths []Path, verdict string) {
	t.Helper()
	if o := summarize(paths); !slices.Equal(o.verdicts, []string{verdict}) {
		t.Fatalf("verdicts %v, want %s\n%s", o.verdicts, verdict, describe(paths))
	}
}

func describe(paths []Path) string {
	var b strings.Builder
	for _, p := range paths {
		b.WriteString(p.Verdict + " " + p.Dest.String() + " via " + strings.Join(p.Chains, " > ") + "\n")
	}
	return b.String()
}

func dump(t testing.TB, f *Fake) string {
	t.Helper()
	var b strings.Builder
	for _, table := range tables {
		out, err := f.Save(context.Background(), table)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(out)
	}
	return b.String()
}

func ipsOf(eps []proxy.Endpoint) []string {
	var out []string
	for _, e := range eps {
		out = append(out, e.String())
	}
	return out
}

func n4(s string) netip.Addr { return netip.MustParseAddr(s) }

func itoa(i int) string { return strconv.Itoa(i) }
