package iptables

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/nodeagent/nodeagent/proxy"
)

// ruleSet is the whole desired state, a plain value: per table, each chain
// this mode owns mapped to its rules as restore text ("-A CHAIN ...\n"
// lines; "" for an empty chain). Two rule sets diff chain by chain.
type ruleSet map[string]map[string]string

// buildRules computes the rule set that programs s. It is pure; sizeHint
// (the last result's size, 0 if unknown) only saves buffer growth.
func buildRules(cfg proxy.Config, s *proxy.Snapshot, sizeHint int) ruleSet {
	b := newBuilder(cfg)
	if sizeHint == 0 {
		sizeHint = 700*len(s.Services) + 500*len(s.Services)*3
	}
	b.out.b.Grow(sizeHint + sizeHint/8)
	b.spans = make([]span, 0, 5*len(s.Services))
	for _, sp := range sortedPorts(s) {
		b.servicePort(sp, s.Endpoints[sp.Name])
	}
	return b.finish()
}

// size is the length of all the rule text.
func (rs ruleSet) size() int {
	n := 0
	for _, chains := range rs {
		for _, txt := range chains {
			n += len(txt)
		}
	}
	return n
}

// sortedPorts orders the IPv4 service ports (iptables, not ip6tables) by name, so that the shared chains'
// text (and so the diff) does not depend on map order.
func sortedPorts(s *proxy.Snapshot) []*proxy.ServicePort {
	ports := make([]*proxy.ServicePort, 0, len(s.Services))
	for _, sp := range s.Services {
		if sp.ClusterIP.Is4() {
			ports = append(ports, sp)
		}
	}
	slices.SortFunc(ports, func(a, b *proxy.ServicePort) int {
		x, y := a.Name, b.Name
		return cmp.Or(strings.Compare(x.Namespace, y.Namespace), strings.Compare(x.Name, y.Name),
			strings.Compare(x.Port, y.Port), strings.Compare(string(x.Protocol), string(y.Protocol)))
	})
	return ports
}

// builder writes every per-service chain back to back into one buffer
// (spans mark where each starts) and the shared chains into their own.
type builder struct {
	cfg      proxy.Config
	markMask string // "0x4000/0x4000"
	cidr     string // the cluster CIDR, "" when invalid
	out      text
	spans    []span
	shared   map[string]map[string]*text // table → shared chain → text
}

type span struct {
	table, chain string
	start        int
}

func newBuilder(cfg proxy.Config) *builder {
	b := &builder{cfg: cfg, markMask: fmt.Sprintf("0x%x/0x%x", cfg.MasqueradeMark(), cfg.MasqueradeMark()),
		shared: map[string]map[string]*text{}}
	if cfg.ClusterCIDR.IsValid() && cfg.ClusterCIDR.Addr().Is4() {
		b.cidr = cfg.ClusterCIDR.Masked().String()
	}
	for table, chains := range fixedChains {
		b.shared[table] = map[string]*text{}
		for _, c := range chains {
			b.shared[table][c] = &text{}
		}
	}
	return b
}

// chain starts a per-service chain in the shared buffer and returns it.
func (b *builder) chain(table, name string) *text {
	b.spans = append(b.spans, span{table, name, b.out.b.Len()})
	return &b.out
}

// finish writes the fixed rules and cuts the buffer into chains.
func (b *builder) finish() ruleSet {
	b.fixedRules()
	return b.cut()
}

// cut makes the rule set of what was written: the per-service chains
// from the buffer and every shared chain.
func (b *builder) cut() ruleSet {
	rs := ruleSet{}
	for table, chains := range b.shared {
		rs[table] = make(map[string]string, len(b.spans)+len(chains))
		for name, t := range chains {
			rs[table][name] = t.b.String()
		}
	}
	all := b.out.b.String()
	for i, sp := range b.spans {
		end := len(all)
		if i+1 < len(b.spans) {
			end = b.spans[i+1].start
		}
		rs[sp.table][sp.chain] = all[sp.start:end]
	}
	return rs
}

// fixedRules are the rules of the chains that exist without services.
func (b *builder) fixedRules() {
	nat, filter := b.shared[tableNAT], b.shared[tableFilter]
	nat[chainServices].s("-A ", chainServices,
		` -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"`,
		" -m addrtype --dst-type LOCAL -j ", chainNodePorts).ln()
	mark := b.markMask[:strings.IndexByte(b.markMask, '/')]
	nat[chainMarkMasq].s("-A ", chainMarkMasq, " -j MARK --set-xmark ", b.markMask).ln()
	nat[chainPostrouting].s("-A ", chainPostrouting, " -m mark ! --mark ", b.markMask, " -j RETURN").ln().
		s("-A ", chainPostrouting, " -j MARK --set-xmark ", mark, "/0x0").ln().
		s("-A ", chainPostrouting, ` -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`).ln()
	filter[chainForward].s("-A ", chainForward, ` -m comment --comment "kubernetes forwarding rules" -m mark --mark `,
		b.markMask, " -j ACCEPT").ln().
		s("-A ", chainForward, ` -m comment --comment "kubernetes forwarding conntrack rule"`,
			" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT").ln()
}
