package iptables

import (
	"net/netip"
	"strconv"
	"strings"
)

// match returns the probability that a rule's matches hold for st: 0 or 1,
// or a statistic match's probability. It is one flat switch with a case
// per option our rules use (hence its length); anything else fails the
// trace rather than being ignored.
func (tr *tracer) match(words []string, st tstate) float64 {
	p, neg := 1.0, false
	recent := recentName(words)
	for i := 0; i < len(words) && p > 0; i++ {
		w, arg := words[i], ""
		if i+1 < len(words) {
			arg = words[i+1]
		}
		if w == "-j" || w == "-g" {
			break
		}
		var q float64
		switch w {
		case "!":
			neg = true
			continue
		case "-m":
			i++
			continue
		case "--comment", "--mode", "--seconds", "--mask", "--name":
			i++
			continue
		case "--reap", "--rsource", "--set":
			continue
		case "-s", "--source":
			q, i = boolP(inPrefix(tr.src, arg)), i+1
		case "-d", "--destination":
			q, i = boolP(inPrefix(st.dst.Addr(), arg)), i+1
		case "-p", "--protocol":
			q, i = boolP(arg == tr.proto), i+1
		case "--dport", "--destination-port":
			q, i = boolP(arg == strconv.Itoa(int(st.dst.Port()))), i+1
		case "--src-type":
			q, i = tr.addrType(tr.src, arg), i+1
		case "--dst-type":
			q, i = tr.addrType(st.dst.Addr(), arg), i+1
		case "--probability":
			v, err := strconv.ParseFloat(arg, 64)
			if err != nil {
				tr.fail("bad probability %q", arg)
			}
			q, i = v, i+1
		case "--rcheck", "--update":
			q = boolP(tr.env.AffinityHits[recent])
		case "--mark":
			v, m, ok := parseMark(arg)
			if !ok {
				tr.fail("bad --mark %q", arg)
			}
			q, i = boolP(st.mark&m == v), i+1
		case "--ctstate":
			q, i = boolP(strings.Contains(","+arg+",", ",NEW,")), i+1
		default:
			tr.fail("unknown match option %q in %q", w, strings.Join(words, " "))
			return 0
		}
		if neg {
			q, neg = 1-q, false
		}
		p *= q
	}
	return p
}

func boolP(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (tr *tracer) addrType(a netip.Addr, typ string) float64 {
	if typ != "LOCAL" {
		tr.fail("unknown addrtype %q", typ)
	}
	return boolP(tr.local(a))
}

func inPrefix(a netip.Addr, s string) bool {
	if !strings.Contains(s, "/") {
		b, err := netip.ParseAddr(s)
		return err == nil && a == b
	}
	p, err := netip.ParsePrefix(s)
	return err == nil && p.Contains(a)
}

func recentName(words []string) string {
	for i := 0; i+1 < len(words); i++ {
		if words[i] == "--name" {
			return words[i+1]
		}
	}
	return ""
}
