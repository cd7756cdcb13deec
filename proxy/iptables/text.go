package iptables

import (
	"net/netip"
	"strconv"
	"strings"
)

// text builds rule text without allocating per rule: a strings.Builder
// (whose String does not copy) and a scratch buffer for numbers and
// addresses.
type text struct {
	b       strings.Builder
	scratch [64]byte
}

func (t *text) s(parts ...string) *text {
	for _, p := range parts {
		t.b.WriteString(p)
	}
	return t
}

// host writes a as a /32 (or /128) prefix, as iptables-save prints it.
func (t *text) host(a netip.Addr) *text {
	t.b.Write(a.AppendTo(t.scratch[:0]))
	if a.Is4() {
		t.b.WriteString("/32")
	} else {
		t.b.WriteString("/128")
	}
	return t
}

func (t *text) addrPort(a netip.AddrPort) *text {
	t.b.Write(a.AppendTo(t.scratch[:0]))
	return t
}

func (t *text) int(n int32) *text {
	t.b.Write(strconv.AppendInt(t.scratch[:0], int64(n), 10))
	return t
}

// probability writes p with 10 decimals: enough to tell 1/n from
// 1/(n+1) for any realistic endpoint count.
func (t *text) probability(p float64) *text {
	t.b.Write(strconv.AppendFloat(t.scratch[:0], p, 'f', 10, 64))
	return t
}

// comment writes ` -m comment --comment "c"`.
func (t *text) comment(c string) *text {
	return t.s(` -m comment --comment "`, c, `"`)
}

// dport writes ` -m <proto> --dport <port>`.
func (t *text) dport(proto string, port int32) *text {
	return t.s(" -m ", proto, " --dport ").int(port)
}

func (t *text) ln() *text {
	t.b.WriteByte('\n')
	return t
}
