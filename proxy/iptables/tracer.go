package iptables

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Packet is the first packet of a new connection, for Trace.
type Packet struct {
	Src, Dst netip.Addr
	Proto    string // "tcp", "udp" or "sctp"
	DPort    uint16
	// Local: sent by the node itself (nat and filter OUTPUT); otherwise it
	// arrives from outside or from a pod (nat PREROUTING, then filter
	// INPUT or FORWARD).
	Local bool
}

// TraceEnv is what the tracer cannot read from the rules.
type TraceEnv struct {
	// LocalIPs are the node's own addresses (addrtype LOCAL; 127/8 too).
	LocalIPs []netip.Addr
	// AffinityHits are the recent lists (KUBE-SEP-… names) that already
	// hold the client: `--rcheck` of one of them matches, others do not.
	AffinityHits map[string]bool
}

// Path is one way a packet can go through the tables.
type Path struct {
	// Probability of this path (the product of the statistic matches).
	Probability float64
	// Dest is where the packet goes: its DNAT destination, or the original.
	Dest       netip.AddrPort
	DNAT       bool
	Masquerade bool
	// Verdict is "ACCEPT", "DROP" or "REJECT".
	Verdict string
	// Chains are the chains traversed, for test messages.
	Chains []string
}

// Trace follows p through the fake's nat and filter tables and returns
// every path it can take: each -m statistic match forks the path, so the
// result is the set of possible outcomes with their probabilities.
// Connection tracking is taken as NEW. Rules using a match or target
// the tracer does not know make it fail rather than guess.
func (f *Fake) Trace(p Packet, env TraceEnv) ([]Path, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tr := &tracer{f: f, env: env, proto: p.Proto, src: p.Src}
	start := tstate{dst: netip.AddrPortFrom(p.Dst, p.DPort), prob: 1}
	natHook, filterHook := "PREROUTING", "FORWARD"
	if p.Local {
		natHook, filterHook = "OUTPUT", "OUTPUT"
	}
	var out []Path
	for _, st := range tr.hook(tableNAT, natHook, start) {
		fh := filterHook
		if !p.Local && tr.local(st.dst.Addr()) {
			fh = "INPUT"
		}
		for _, st := range tr.hook(tableFilter, fh, st) {
			if st.verdict != "ACCEPT" || fh == "INPUT" {
				out = append(out, st.path())
				continue
			}
			for _, st := range tr.hook(tableNAT, "POSTROUTING", st) {
				out = append(out, st.path())
			}
		}
	}
	return out, tr.err
}

type tracer struct {
	f     *Fake
	env   TraceEnv
	proto string
	src   netip.Addr
	table *fakeTable
	tname string
	err   error
}

// tstate is one path's packet and outcome so far; verdict "" means it is
// still running (or fell off / returned from a chain).
type tstate struct {
	dst     netip.AddrPort
	dnat    bool
	mark    uint32
	masq    bool
	prob    float64
	chains  []string
	verdict string
}

func (s tstate) path() Path {
	return Path{Probability: s.prob, Dest: s.dst, DNAT: s.dnat, Masquerade: s.masq, Verdict: s.verdict, Chains: s.chains}
}

// hook runs a built-in chain; falling off it is its policy, ACCEPT. A
// verdict other than ACCEPT ends the path before the next hook.
func (tr *tracer) hook(table, chain string, st tstate) []tstate {
	if st.verdict != "" && st.verdict != "ACCEPT" {
		return []tstate{st}
	}
	st.verdict = ""
	tr.table, tr.tname = tr.f.tables[table], table
	out := tr.chain(chain, st, 0)
	for i := range out {
		if out[i].verdict == "" {
			out[i].verdict = "ACCEPT"
		}
	}
	return out
}

func (tr *tracer) chain(name string, st tstate, depth int) []tstate {
	if depth > 64 {
		tr.fail("chain loop at %s", name)
		return nil
	}
	st.chains = append(slices.Clip(st.chains), tr.tname+"/"+name)
	return tr.from(name, 0, st, depth)
}

// from evaluates chain name from rule i on.
func (tr *tracer) from(name string, i int, st tstate, depth int) []tstate {
	c := tr.table.chains[name]
	if c == nil {
		tr.fail("no chain %s/%s", tr.tname, name)
		return nil
	}
	var out []tstate
	for ; i < len(c.rules); i++ {
		r := c.rules[i]
		pm := tr.match(r.words, st)
		if pm == 0 {
			continue
		}
		if pm < 1 {
			miss := st
			miss.prob *= 1 - pm
			out = append(out, tr.from(name, i+1, miss, depth)...)
			st.prob *= pm
		}
		done, next := tr.target(r, st, depth)
		out = append(out, done...)
		for _, s := range next {
			out = append(out, tr.from(name, i+1, s, depth)...)
		}
		return out
	}
	return append(out, st)
}

// target applies a matched rule's target. done are paths that leave this
// chain (a verdict, a RETURN, a goto); next continue with the next rule.
func (tr *tracer) target(r fakeRule, st tstate, depth int) (done, next []tstate) {
	opts := targetOptions(r.words)
	switch r.target {
	case "":
		return nil, []tstate{st}
	case "ACCEPT", "DROP", "REJECT":
		st.verdict = r.target
		return []tstate{st}, nil
	case "RETURN":
		return []tstate{st}, nil
	case "MARK":
		return nil, []tstate{tr.setMark(st, opts["--set-xmark"])}
	case "DNAT":
		to, err := netip.ParseAddrPort(opts["--to-destination"])
		if err != nil {
			tr.fail("DNAT %q: %v", opts["--to-destination"], err)
		}
		st.dst, st.dnat, st.verdict = to, true, "ACCEPT"
		return []tstate{st}, nil
	case "MASQUERADE":
		st.masq, st.verdict = true, "ACCEPT"
		return []tstate{st}, nil
	}
	if _, ok := tr.table.chains[r.target]; !ok {
		tr.fail("unknown target %s", r.target)
		return nil, nil
	}
	for _, s := range tr.chain(r.target, st, depth+1) {
		if s.verdict != "" || r.isGoto {
			done = append(done, s)
		} else {
			next = append(next, s)
		}
	}
	return done, next
}

// setMark applies --set-xmark value/mask: zero mask's bits, then xor value.
func (tr *tracer) setMark(st tstate, vm string) tstate {
	v, m, ok := parseMark(vm)
	if !ok {
		tr.fail("bad --set-xmark %q", vm)
	}
	st.mark = (st.mark &^ m) ^ v
	return st
}

func parseMark(vm string) (value, mask uint32, ok bool) {
	vs, ms, found := strings.Cut(vm, "/")
	v, err1 := strconv.ParseUint(vs, 0, 32)
	m, err2 := uint64(0xffffffff), error(nil)
	if found {
		m, err2 = strconv.ParseUint(ms, 0, 32)
	}
	return uint32(v), uint32(m), err1 == nil && err2 == nil
}

func targetOptions(words []string) map[string]string {
	opts := map[string]string{}
	i := slices.IndexFunc(words, func(w string) bool { return w == "-j" || w == "-g" })
	for i += 2; i > 1 && i < len(words); i++ {
		if i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") {
			opts[words[i]] = words[i+1]
			i++
		} else {
			opts[words[i]] = ""
		}
	}
	return opts
}

func (tr *tracer) local(a netip.Addr) bool {
	return a.IsLoopback() || slices.Contains(tr.env.LocalIPs, a)
}

func (tr *tracer) fail(format string, args ...any) {
	if tr.err == nil {
		tr.err = fmt.Errorf("trace: "+format, args...)
	}
}
