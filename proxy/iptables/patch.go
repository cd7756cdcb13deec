package iptables

import (
	"maps"
	"strings"

	"github.com/nodeagent/nodeagent/proxy"
)

// patchRules is the rule set of s made from prev, the rule set of
// prevSnap, by computing again only the service ports changed names: their
// own chains are replaced, and their rules in the shared chains taken out
// and put in before the chain's fixed rules. The shared chains' rules may
// so stand in another order than buildRules's; only the fixed rules'
// place matters (KUBE-SERVICES's jump to KUBE-NODEPORTS is last). One
// change at 10,000 Services costs a copy of the chain map, not the 70 ms
// of building every rule.
func patchRules(cfg proxy.Config, prev ruleSet, prevSnap, s *proxy.Snapshot, changed map[proxy.ServicePortName]struct{}) ruleSet {
	want := make(ruleSet, len(prev))
	for table, chains := range prev {
		want[table] = maps.Clone(chains)
	}
	tails := newBuilder(cfg).finish()
	for name := range changed {
		old, cur := portRules(cfg, prevSnap, name), portRules(cfg, s, name)
		for table, chains := range old {
			for c, txt := range chains {
				if !shared(table, c) {
					delete(want[table], c)
					continue
				}
				if cur[table][c] != txt {
					want[table][c] = removeLines(want[table][c], txt)
				}
			}
		}
		for table, chains := range cur {
			for c, txt := range chains {
				if !shared(table, c) {
					want[table][c] = txt
					continue
				}
				if old[table][c] != txt {
					want[table][c] = insertBefore(want[table][c], txt, tails[table][c])
				}
			}
		}
	}
	return want
}

// portRules are the rules of one service port of s: its own chains, and
// its lines of the shared chains (only the non-empty ones); nil when s has
// no such IPv4 port.
func portRules(cfg proxy.Config, s *proxy.Snapshot, name proxy.ServicePortName) ruleSet {
	sp := s.Services[name]
	if sp == nil || !sp.ClusterIP.Is4() {
		return nil
	}
	b := newBuilder(cfg)
	b.servicePort(sp, s.Endpoints[name])
	rs := b.cut()
	for table, chains := range rs {
		for c, txt := range chains {
			if shared(table, c) && txt == "" {
				delete(chains, c)
			}
		}
	}
	return rs
}

// shared says whether chain is one of table's fixed chains, which every
// service port adds its lines to.
func shared(table, chain string) bool {
	for _, c := range fixedChains[table] {
		if c == chain {
			return true
		}
	}
	return false
}

// removeLines takes each line of lines out of text once.
func removeLines(text, lines string) string {
	for l := range strings.Lines(lines) {
		if i := lineIndex(text, l); i >= 0 {
			text = text[:i] + text[i+len(l):]
		}
	}
	return text
}

// lineIndex finds line (with its newline) as a whole line of text.
func lineIndex(text, line string) int {
	for off := 0; ; {
		i := strings.Index(text[off:], line)
		if i < 0 {
			return -1
		}
		if i += off; i == 0 || text[i-1] == '\n' {
			return i
		}
		off = i + 1
	}
}

// insertBefore puts lines into text before its fixed tail (the chain's
// fixed rules, at its end), or at its end.
func insertBefore(text, lines, tail string) string {
	if tail != "" && strings.HasSuffix(text, tail) {
		return text[:len(text)-len(tail)] + lines + tail
	}
	return text + lines
}
