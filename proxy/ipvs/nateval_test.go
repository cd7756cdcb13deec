package ipvs

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// packet is the first packet of a new connection, as the nat table sees
// it: source, original destination, protocol, and a mark someone else may
// have set.
type packet struct {
	src   netip.Addr
	dst   netip.AddrPort
	proto corev1.Protocol
	mark  uint32
}

// masqueraded walks p through what the rig's fakes hold, the way the
// kernel would: our nat PREROUTING chain (original destination), then IPVS
// (a virtual server at the destination rewrites it to its first real
// server), then our nat POSTROUTING chain, whose first MASQUERADE or
// RETURN decides. It fails the test on a rule it cannot read, so a rule
// it does not understand is never silently skipped.
func (r *rig) masqueraded(t *testing.T, p packet) bool {
	t.Helper()
	for _, rule := range r.r.Tables["nat"][ChainPrerouting] {
		r.evalRule(t, rule, &p, false)
	}
	k := ServiceKey{Addr: p.dst.Addr(), Port: p.dst.Port(), Protocol: p.proto}
	ipvs := false
	if targets := r.h.Targets(k); len(targets) > 0 {
		p.dst, ipvs = targets[0], true
	}
	for _, rule := range r.r.Tables["nat"][ChainPostrouting] {
		switch r.evalRule(t, rule, &p, ipvs) {
		case "MASQUERADE":
			return true
		case "RETURN":
			return false
		}
	}
	return false
}

// evalRule applies one rule (in iptables-save form) to p and returns its
// target if every match holds ("" otherwise; MARK is applied here).
func (r *rig) evalRule(t *testing.T, rule string, p *packet, ipvs bool) string {
	t.Helper()
	words := splitRule(rule)
	negate, ok := false, true
	for i := 0; i < len(words); i++ {
		w, arg := words[i], func() string { i++; return words[i] }
		hold := true
		switch w {
		case "!":
			negate = true
			continue
		case "-m":
			arg()
			continue
		case "--comment":
			arg()
			continue
		case "--ipvs":
			hold = ipvs
		case "--vdir", "--vmethod": // ORIGINAL, MASQ: what NAT-mode IPVS forwards
			arg()
			hold = ipvs
		case "-s":
			hold = netip.MustParsePrefix(arg()).Contains(p.src)
		case "--mark":
			v, m := parseMark(t, arg())
			hold = p.mark&m == v
		case "--match-set":
			hold = r.inSet(t, arg(), arg(), p)
		case "-j":
			target := arg()
			if !ok {
				return ""
			}
			if target == "MARK" {
				if words[i+1] != "--set-xmark" {
					t.Fatalf("rule %q: MARK without --set-xmark", rule)
				}
				v, m := parseMark(t, words[i+2])
				p.mark = (p.mark &^ m) ^ v
			}
			return target
		default:
			t.Fatalf("rule %q: cannot evaluate %q", rule, w)
		}
		if hold == negate {
			ok = false
		}
		negate = false
	}
	return ""
}

// inSet looks p up in the fake set name; dirs is "dst,dst" (IP and port
// of the destination) or "dst,dst,src" (and the source as the third IP,
// which our hash:ip,port,ip entries hold equal to the first).
func (r *rig) inSet(t *testing.T, name, dirs string, p *packet) bool {
	t.Helper()
	for _, s := range OwnSets() {
		if s.Name != name {
			continue
		}
		entries, err := r.sets().Entries(s)
		if err != nil {
			t.Fatalf("a rule matches %s: %v", name, err)
		}
		e := Entry{IP: p.dst.Addr(), Port: p.dst.Port(), Protocol: p.proto}
		for _, have := range entries {
			if have == e && (dirs == "dst,dst" || dirs == "dst,dst,src" && p.src == e.IP) {
				return true
			}
		}
		return false
	}
	t.Fatalf("a rule matches %s, which is not one of our sets", name)
	return false
}

func parseMark(t *testing.T, s string) (value, mask uint32) {
	t.Helper()
	v, m, ok := strings.Cut(s, "/")
	vv, err1 := strconv.ParseUint(v, 0, 32)
	mm, err2 := strconv.ParseUint(m, 0, 32)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("mark %q is not value/mask", s)
	}
	return uint32(vv), uint32(mm)
}

// splitRule splits an iptables-save rule into words, keeping "quoted
// words" whole.
func splitRule(rule string) []string {
	var out []string
	for len(rule) > 0 {
		rule = strings.TrimLeft(rule, " ")
		if strings.HasPrefix(rule, `"`) {
			end := strings.Index(rule[1:], `"`) + 1
			out, rule = append(out, rule[1:end]), rule[end+1:]
			continue
		}
		w, rest, _ := strings.Cut(rule, " ")
		if w != "" {
			out = append(out, w)
		}
		rule = rest
	}
	return out
}

func (p packet) String() string {
	return fmt.Sprintf("%s -> %s/%s mark %#x", p.src, p.dst, p.proto, p.mark)
}
