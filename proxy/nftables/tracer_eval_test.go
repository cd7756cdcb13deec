package nftables

import (
	"net/netip"
	"strconv"
	"strings"
)

// ruleEval walks the words of one rule.
type ruleEval struct {
	tr     *tracer
	words  []string
	pos    int
	numgen int
}

func (r *ruleEval) peek(i int) string {
	if r.pos+i < len(r.words) {
		return r.words[r.pos+i]
	}
	return ""
}

func (r *ruleEval) fail(what string) {
	r.tr.t.Fatalf("tracer: cannot read %s at word %d of %q", what, r.pos, strings.Join(r.words, " "))
}

// eval returns the flows after the rule; a rule that does not match
// returns f unchanged.
func (tr *tracer) eval(r *ruleEval, f flow) []flow {
	g := f
	for r.pos < len(r.words) {
		w := r.peek(0)
		switch {
		case w == "accept" || w == "drop":
			g.verdict = w
			return []flow{g}
		case w == "reject":
			g.verdict = "reject"
			if r.peek(1) == "with" {
				g.verdict = strings.Join(r.words[r.pos:], " ")
			}
			return []flow{g}
		case w == "masquerade":
			g.masq = true
			r.pos++
		case w == "jump" || w == "goto":
			return tr.call(r.peek(1), w == "goto", g)
		case w == "dnat":
			if !r.dnat(&g) {
				return []flow{f}
			}
		case w == "update":
			g.updates = append(g.updates, strings.TrimPrefix(r.peek(1), "@")+" "+g.pkt.src.String())
			r.pos += 6
		case w == "meta" && r.peek(1) == "mark":
			if !r.mark(&g) {
				return []flow{f}
			}
		case w == "ct":
			r.pos += 3
			if !g.dnatted() {
				return []flow{f}
			}
		case w == "fib":
			if !r.fib(g) {
				return []flow{f}
			}
		default:
			vals := r.expr(g)
			ok, next := r.match(vals, g)
			if next != nil {
				return next
			}
			if !ok {
				return []flow{f}
			}
		}
	}
	return []flow{g}
}

// dnatted says whether the connection was DNATed (ct status dnat).
func (f flow) dnatted() bool { return f.dnat != nil || f.natted }

func (tr *tracer) call(target string, isGoto bool, g flow) []flow {
	out := tr.chain(target, g)
	for i := range out {
		if isGoto && out[i].verdict == "" {
			out[i].verdict = "return"
		}
	}
	return out
}

// dnat reads "dnat ip to A:p" or "dnat ip to <expr> map @m".
func (r *ruleEval) dnat(g *flow) bool {
	r.pos += 3
	if ap, err := netip.ParseAddrPort(r.peek(0)); err == nil {
		r.pos++
		g.dnat = &ap
		return true
	}
	key := r.expr(*g)
	if r.peek(0) != "map" {
		r.fail("dnat map")
	}
	name := strings.TrimPrefix(r.peek(1), "@")
	r.pos += 2
	m := r.tr.table.Maps[name]
	if m == nil {
		r.fail("map " + name)
	}
	e := m.FindElement(key...)
	if e == nil {
		return false
	}
	port, _ := strconv.Atoi(e.Value[1])
	ap := netip.AddrPortFrom(netip.MustParseAddr(e.Value[0]), uint16(port))
	g.dnat = &ap
	return true
}

// mark reads "meta mark & M == M" and "meta mark set meta mark | M" (or ^).
func (r *ruleEval) mark(g *flow) bool {
	if r.peek(2) == "&" {
		m := parseUint(r.peek(3))
		ok := g.mark&m == parseUint(r.peek(5))
		r.pos += 6
		return ok
	}
	if r.peek(2) != "set" || r.peek(4) != "mark" {
		r.fail("meta mark")
	}
	m := parseUint(r.peek(6))
	if r.peek(5) == "|" {
		g.mark |= m
	} else {
		g.mark ^= m
	}
	r.pos += 7
	return true
}

func parseUint(s string) uint32 {
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		panic(err)
	}
	return uint32(v)
}

// fib reads "fib saddr|daddr type [!=] local".
func (r *ruleEval) fib(g flow) bool {
	addr := g.pkt.dst
	if r.peek(1) == "saddr" {
		addr = g.pkt.src
	}
	neg := r.peek(3) == "!="
	r.pos += 4
	if neg {
		r.pos++
	}
	return r.tr.isLocal(addr) != neg
}

// expr reads a concatenation of terms and returns their values.
func (r *ruleEval) expr(g flow) []string {
	var vals []string
	for {
		vals = append(vals, r.term(g))
		if r.peek(0) != "." {
			return vals
		}
		r.pos++
	}
}

func (r *ruleEval) term(g flow) string {
	a, b := r.peek(0), r.peek(1)
	r.pos += 2
	switch {
	case a == "ip" && b == "saddr":
		return g.pkt.src.String()
	case a == "ip" && b == "daddr":
		return g.pkt.dst.String()
	case a == "meta" && b == "l4proto":
		return g.pkt.proto
	case a == "th" && b == "dport":
		return strconv.Itoa(g.pkt.dport)
	case a == "numgen":
		r.pos += 2
		return strconv.Itoa(r.numgen)
	}
	r.pos -= 2
	r.fail("expression")
	return ""
}

// match reads what follows an expression: a set lookup, a comparison, or
// a verdict map (whose verdict it follows, returning the flows).
func (r *ruleEval) match(vals []string, g flow) (bool, []flow) {
	w := r.peek(0)
	switch {
	case strings.HasPrefix(w, "@"):
		r.pos++
		return r.tr.inSet(strings.TrimPrefix(w, "@"), vals), nil
	case w == "!=":
		r.pos += 2
		return !matches(vals[0], r.peek(-1)), nil
	case w == "vmap":
		v, ok := r.vmap(vals)
		if !ok {
			return false, nil
		}
		f := strings.Fields(v)
		return true, r.tr.call(f[1], f[0] == "goto", g)
	default:
		r.pos++
		return matches(vals[0], w), nil
	}
}

func matches(val, want string) bool {
	if p, err := netip.ParsePrefix(want); err == nil {
		return p.Contains(netip.MustParseAddr(val))
	}
	return val == want
}

func (tr *tracer) inSet(name string, key []string) bool {
	if tr.dyn[name+" "+strings.Join(key, " . ")] {
		return true
	}
	if s := tr.table.Sets[name]; s != nil {
		return s.FindElement(key...) != nil
	}
	if m := tr.table.Maps[name]; m != nil {
		return m.FindElement(key...) != nil
	}
	tr.t.Fatalf("tracer: no set %q", name)
	return false
}

// vmap looks key up in "vmap @m" or "vmap { k : verdict , ... }".
func (r *ruleEval) vmap(key []string) (string, bool) {
	if name, ok := strings.CutPrefix(r.peek(1), "@"); ok {
		r.pos += 2
		m := r.tr.table.Maps[name]
		if m == nil {
			r.fail("vmap " + name)
		}
		if e := m.FindElement(key...); e != nil {
			return e.Value[0], true
		}
		return "", false
	}
	end := r.pos
	for end < len(r.words) && r.words[end] != "}" {
		end++
	}
	body := strings.Join(r.words[r.pos+2:end], " ")
	r.pos = end + 1
	for _, entry := range strings.Split(body, " , ") {
		k, v, _ := strings.Cut(entry, " : ")
		if k == strings.Join(key, " . ") {
			return v, true
		}
	}
	return "", false
}
