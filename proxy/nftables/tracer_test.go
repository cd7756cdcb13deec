package nftables

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"
)

// The tracer follows a packet through the rules the backend generated, as
// the fake holds them. It knows only the vocabulary this backend writes
// (and fails the test on anything else). Every `numgen random mod N` forks
// the trace N ways, so a trace returns every possible outcome with its
// probability.

// packet is what the tracer sends.
type packet struct {
	src, dst netip.Addr
	proto    string // "tcp", "udp"
	dport    int
	fromNode bool // sent by the node itself (output path), else arriving
}

// outcome is one way a packet can end.
type outcome struct {
	verdict string // "accept", "drop", "reject", "reject with tcp reset"
	dst     netip.AddrPort
	masq    bool
	weight  float64
	updates []string // "set ip" added to dynamic sets
}

type tracer struct {
	t     testing.TB
	table *knftables.FakeTable
	local map[netip.Addr]bool
	// dyn is what the packet path put into dynamic (affinity) sets.
	dyn map[string]bool
}

func newTracer(t testing.TB, fake *knftables.Fake, nodeIPs ...string) *tracer {
	t.Helper()
	if fake.Table == nil {
		t.Fatal("tracer: no table")
	}
	tr := &tracer{t: t, table: fake.Table, local: map[netip.Addr]bool{}, dyn: map[string]bool{}}
	for _, ip := range nodeIPs {
		tr.local[netip.MustParseAddr(ip)] = true
	}
	return tr
}

// remember applies an outcome's dynamic set updates to later traces.
func (tr *tracer) remember(o outcome) {
	for _, u := range o.updates {
		tr.dyn[u] = true
	}
}

// flow is the evaluation state of one branch.
type flow struct {
	pkt     packet
	dnat    *netip.AddrPort
	mark    uint32
	masq    bool
	natted  bool   // DNATed by an earlier hook
	verdict string // "" continue, "return", "accept", "drop", "reject..."
	weight  float64
	updates []string
}

func (tr *tracer) isLocal(a netip.Addr) bool {
	return tr.local[a] || netip.MustParsePrefix("127.0.0.0/8").Contains(a)
}

// trace sends p through the hooks in order.
func (tr *tracer) trace(p packet) []outcome {
	start := flow{pkt: p, weight: 1}
	var path []knftables.BaseChainHook
	if p.fromNode {
		path = []knftables.BaseChainHook{knftables.OutputHook, knftables.PostroutingHook}
	} else {
		path = []knftables.BaseChainHook{knftables.PreroutingHook, "route", knftables.PostroutingHook}
	}
	flows := []flow{start}
	for _, hook := range path {
		var next []flow
		for _, f := range flows {
			next = append(next, tr.hook(f, hook)...)
		}
		flows = next
	}
	var outs []outcome
	for _, f := range flows {
		v := f.verdict
		if v == "" || v == "return" {
			v = "accept"
		}
		outs = append(outs, outcome{verdict: v, dst: netip.AddrPortFrom(f.pkt.dst, uint16(f.pkt.dport)),
			masq: f.masq, weight: f.weight, updates: f.updates})
	}
	return outs
}

// hook runs the base chains of one hook; "route" is the routing decision
// of an arriving packet: input when it is for the node, else forward.
func (tr *tracer) hook(f flow, hook knftables.BaseChainHook) []flow {
	if isFinal(f.verdict) {
		return []flow{f}
	}
	if hook == "route" {
		hook = knftables.ForwardHook
		if tr.isLocal(f.pkt.dst) {
			hook = knftables.InputHook
		}
	}
	flows := []flow{f}
	for _, name := range tr.baseChains(hook) {
		var next []flow
		for _, f := range flows {
			if isFinal(f.verdict) {
				next = append(next, f)
				continue
			}
			f.verdict = ""
			for _, g := range tr.chain(name, f) {
				if g.dnat != nil && *tr.table.Chains[name].Type == knftables.NATType {
					g.pkt.dst, g.pkt.dport = g.dnat.Addr(), int(g.dnat.Port())
					g.dnat, g.natted = nil, true
				}
				next = append(next, g)
			}
		}
		flows = next
	}
	if hook == knftables.InputHook {
		for i := range flows {
			if !isFinal(flows[i].verdict) {
				flows[i].verdict = "accept"
			}
		}
	}
	return flows
}

func isFinal(v string) bool { return v == "drop" || strings.HasPrefix(v, "reject") }

// baseChains are the hook's chains, by priority.
func (tr *tracer) baseChains(hook knftables.BaseChainHook) []string {
	var names []string
	for name, c := range tr.table.Chains {
		if c.Hook != nil && *c.Hook == hook {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		return priority(tr.table.Chains[names[i]]) < priority(tr.table.Chains[names[j]])
	})
	return names
}

func priority(c *knftables.FakeChain) int {
	p, err := knftables.ParsePriority(knftables.IPv4Family, string(*c.Priority))
	if err != nil {
		panic(err)
	}
	return p
}

// chain runs f through a chain; a returned flow's verdict is "" when the
// chain ran to its end (or returned).
func (tr *tracer) chain(name string, f flow) []flow {
	c := tr.table.Chains[name]
	if c == nil {
		tr.t.Fatalf("tracer: no chain %q", name)
	}
	return tr.rules(c.Rules, f)
}

func (tr *tracer) rules(rules []*knftables.Rule, f flow) []flow {
	if len(rules) == 0 {
		return []flow{f}
	}
	var out []flow
	for _, g := range tr.rule(rules[0].Rule, f) {
		switch g.verdict {
		case "":
			out = append(out, tr.rules(rules[1:], g)...)
		case "return":
			g.verdict = ""
			out = append(out, g)
		default:
			out = append(out, g)
		}
	}
	return out
}

// rule evaluates one rule; a rule with numgen is evaluated once per value.
func (tr *tracer) rule(text string, f flow) []flow {
	words := strings.Fields(text)
	n := 1
	for i, w := range words {
		if w == "numgen" {
			n, _ = strconv.Atoi(words[i+3])
		}
	}
	var out []flow
	for v := 0; v < n; v++ {
		g := f
		g.weight = f.weight / float64(n)
		g.updates = append([]string(nil), f.updates...)
		out = append(out, tr.eval(&ruleEval{tr: tr, words: words, numgen: v}, g)...)
	}
	return mergeFlows(out)
}

// mergeFlows joins the flows that went the same way (the numgen values
// for which a rule did not match, say) into one carrying their summed
// weight, so that a chain of numgen rules a packet passes without a match
// does not multiply the flows.
func mergeFlows(fs []flow) []flow {
	var out []flow
	seen := map[string]int{}
	for _, f := range fs {
		dnat := ""
		if f.dnat != nil {
			dnat = f.dnat.String()
		}
		k := fmt.Sprint(f.pkt, dnat, f.mark, f.masq, f.natted, f.verdict, f.updates)
		if i, ok := seen[k]; ok {
			out[i].weight += f.weight
			continue
		}
		seen[k] = len(out)
		out = append(out, f)
	}
	return out
}
