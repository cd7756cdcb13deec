package iptables

import (
	"net/netip"
	"strconv"
)

// text appends rule text to one byte slice without allocating per rule.
type text struct{ b []byte }

func (t *text) s(parts ...string) *text {
	for _, p := range parts {
		t.b = append(t.b, p...)
	}
	return t
}

// host appends a as a /32 (or /128) prefix, as iptables-save prints it.
func (t *text) host(a netip.Addr) *text {
	t.b = a.AppendTo(t.b)
	if a.Is4() {
		t.b = append(t.b, "/32"...)
	} else {
		t.b = append(t.b, "/128"...)
	}
	return t
}

func (t *text) addrPort(a netip.AddrPort) *text {
	t.b = a.AppendTo(t.b)
	return t
}

func (t *text) int(n int32) *text {
	t.b = strconv.AppendInt(t.b, int64(n), 10)
	return t
}

// probability appends p with 10 decimals: enough to tell 1/n from
// 1/(n+1) for any realistic endpoint count.
func (t *text) probability(p float64) *text {
	t.b = strconv.AppendFloat(t.b, p, 'f', 10, 64)
	return t
}

// comment appends ` -m comment --comment "c"`.
func (t *text) comment(c string) *text {
	return t.s(` -m comment --comment "`, c, `"`)
}

// dport appends ` -m <proto> --dport <port>`.
func (t *text) dport(proto string, port int32) *text {
	return t.s(" -m ", proto, " --dport ").int(port)
}

func (t *text) ln() *text {
	t.b = append(t.b, '\n')
	return t
}
