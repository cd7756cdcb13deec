package iptables

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/nodeagent/nodeagent/proxy"
)

// port is what every rule of one service port needs.
type port struct {
	sp      *proxy.ServicePort
	chains  portChains
	key     string // ServicePortName.String(), the hash input
	comment string // "ns/name:port", kube-proxy's comment
	proto   string // "tcp", "udp", "sctp"
}

// epChain is one endpoint and its KUBE-SEP chain.
type epChain struct {
	ep    proxy.Endpoint
	chain string
}

func newPort(sp *proxy.ServicePort) port {
	c := sp.Name.NamespacedName.String()
	if sp.Name.Port != "" {
		c += ":" + sp.Name.Port
	}
	key := sp.Name.String()
	return port{sp: sp, chains: chainsFor(key, sp.Name.Protocol), key: key, comment: c,
		proto: strings.ToLower(string(sp.Protocol))}
}

// servicePort writes every rule of one service port: its chains, its
// entries in the shared chains and its filter rules.
func (b *builder) servicePort(sp *proxy.ServicePort, eps []proxy.Endpoint) {
	p := newPort(sp)
	eps = ipv4Only(eps)
	cluster := b.sepChains(p, proxy.ClusterEndpoints(sp, eps))
	external, ownSet := cluster, false
	if ext := proxy.ExternalEndpoints(sp, eps); sp.HasExternal() && !sameEndpoints(ext, cluster) {
		external, ownSet = b.sepChains(p, ext), true
	}
	hasCluster, hasExternal := len(cluster) > 0, len(external) > 0
	hasExtChain := sp.HasExternal() && (hasExternal || sp.ExternalLocal && hasCluster)
	if hasCluster {
		b.svcChain(p, cluster)
	}
	if hasExtChain {
		b.extChain(p, hasCluster, hasExternal, ownSet)
	}
	if ownSet && hasExternal {
		b.balance(b.chain(tableNAT, p.chains.svl), p.chains.svl, p, external)
	}
	for _, e := range cluster {
		b.sepRules(p, e)
	}
	if ownSet {
		for _, e := range external {
			if !hasChain(cluster, e.chain) {
				b.sepRules(p, e)
			}
		}
	}
	b.entries(p, hasCluster, hasExtChain)
	b.filterRules(p, hasCluster, !sp.HasExternal() || hasExternal)
}

// ipv4Only drops IPv6 endpoints (ip6tables' business), copying only then.
func ipv4Only(eps []proxy.Endpoint) []proxy.Endpoint {
	if !slices.ContainsFunc(eps, func(e proxy.Endpoint) bool { return !e.IP.Is4() }) {
		return eps
	}
	return slices.DeleteFunc(slices.Clone(eps), func(e proxy.Endpoint) bool { return !e.IP.Is4() })
}

func (b *builder) sepChains(p port, eps []proxy.Endpoint) []epChain {
	out := make([]epChain, len(eps))
	for i, e := range eps {
		out[i] = epChain{e, sepChain(p.key, string(p.sp.Protocol), e.String())}
	}
	return out
}

func sameEndpoints(eps []proxy.Endpoint, c []epChain) bool {
	if len(eps) != len(c) {
		return false
	}
	for i := range eps {
		if eps[i].AddrPort() != c[i].ep.AddrPort() {
			return false
		}
	}
	return true
}

// svcChain: masquerade cluster-IP traffic from outside the pod range, then
// balance over the cluster endpoints.
func (b *builder) svcChain(p port, eps []epChain) {
	t := b.chain(tableNAT, p.chains.svc)
	if b.cidr != "" {
		t.s("-A ", p.chains.svc, " ! -s ", b.cidr, " -d ").host(p.sp.ClusterIP).s(" -p ", p.proto).
			s(` -m comment --comment "`, p.comment, ` cluster IP"`).dport(p.proto, p.sp.Port).
			s(" -j ", chainMarkMasq).ln()
	}
	b.balance(t, p.chains.svc, p, eps)
}

// balance sends each new connection to one endpoint chain: affinity hits
// first, then endpoint i with probability 1/(n-i), the last always.
func (b *builder) balance(t *text, chain string, p port, eps []epChain) {
	if p.sp.AffinityTimeout > 0 {
		for _, e := range eps {
			t.s("-A ", chain).epComment(p, e.ep).s(" -m recent --rcheck --seconds ").int(p.sp.AffinityTimeout).
				s(" --reap --name ", e.chain, " --mask 255.255.255.255 --rsource -j ", e.chain).ln()
		}
	}
	for i, e := range eps {
		t.s("-A ", chain).epComment(p, e.ep)
		if left := len(eps) - i; left > 1 {
			t.s(" -m statistic --mode random --probability ").probability(1 / float64(left))
		}
		t.s(" -j ", e.chain).ln()
	}
}

func (t *text) epComment(p port, e proxy.Endpoint) *text {
	return t.s(` -m comment --comment "`, p.comment, " -> ").addrPort(e.AddrPort()).s(`"`)
}

// extChain routes node-port, external-IP and load-balancer traffic.
// Cluster policy: masquerade it all, then the cluster endpoints (or the
// external set's own chain). Local policy: pod and node-local clients get
// the cluster chain; others only this node's endpoints, unmasqueraded.
func (b *builder) extChain(p port, hasCluster, hasExternal, ownSet bool) {
	ext := p.chains.ext
	t := b.chain(tableNAT, ext)
	target := p.chains.svc
	if ownSet {
		target = p.chains.svl
	}
	if !p.sp.ExternalLocal {
		t.s("-A ", ext, ` -m comment --comment "masquerade traffic for `, p.comment, ` external destinations" -j `, chainMarkMasq).ln()
		t.s("-A ", ext, " -j ", target).ln()
		return
	}
	if hasCluster {
		if b.cidr != "" {
			t.s("-A ", ext, " -s ", b.cidr, ` -m comment --comment "pod traffic for `, p.comment,
				` external destinations" -j `, p.chains.svc).ln()
		}
		t.s("-A ", ext, ` -m comment --comment "masquerade LOCAL traffic for `, p.comment,
			` external destinations" -m addrtype --src-type LOCAL -j `, chainMarkMasq).ln()
		t.s("-A ", ext, ` -m comment --comment "route LOCAL traffic for `, p.comment,
			` external destinations" -m addrtype --src-type LOCAL -j `, p.chains.svc).ln()
	}
	if hasExternal {
		t.s("-A ", ext, " -j ", target).ln()
	}
}

func hasChain(eps []epChain, chain string) bool {
	for _, e := range eps {
		if e.chain == chain {
			return true
		}
	}
	return false
}

// sepRules: masquerade hairpin traffic (the endpoint reaching itself),
// then DNAT, remembering the client for affinity.
func (b *builder) sepRules(p port, e epChain) {
	t := b.chain(tableNAT, e.chain)
	t.s("-A ", e.chain, " -s ").host(e.ep.IP).comment(p.comment).s(" -j ", chainMarkMasq).ln()
	t.s("-A ", e.chain, " -p ", p.proto).comment(p.comment)
	if p.sp.AffinityTimeout > 0 {
		t.s(" -m recent --set --name ", e.chain, " --mask 255.255.255.255 --rsource")
	}
	t.s(" -j DNAT --to-destination ").addrPort(e.ep.AddrPort()).ln()
}

// entries are the service port's rules in KUBE-SERVICES and KUBE-NODEPORTS.
func (b *builder) entries(p port, hasCluster, hasExt bool) {
	svcs := b.shared[tableNAT][chainServices]
	if hasCluster {
		b.dest(svcs, chainServices, p, p.sp.ClusterIP, p.sp.Port, " cluster IP", p.chains.svc)
	}
	if !hasExt {
		return
	}
	b.externalDests(svcs, chainServices, p, p.chains.ext)
	if p.sp.NodePort != 0 {
		b.shared[tableNAT][chainNodePorts].s("-A ", chainNodePorts, " -p ", p.proto).comment(p.comment).
			dport(p.proto, p.sp.NodePort).s(" -j ", p.chains.ext).ln()
	}
}

// dest writes `-A <chain of t> -d ip/32 -p proto ... --dport port -j target`.
func (b *builder) dest(t *text, chain string, p port, ip netip.Addr, port int32, what, target string, extra ...string) {
	t.s("-A ", chain, " -d ").host(ip).s(" -p ", p.proto).s(` -m comment --comment "`, p.comment, what, `"`).
		dport(p.proto, port).s(" -j ", target).s(extra...).ln()
}

func (b *builder) externalDests(t *text, chain string, p port, target string, extra ...string) {
	for _, ip := range p.sp.ExternalIPs {
		if !ip.Is4() {
			continue
		}
		b.dest(t, chain, p, ip, p.sp.Port, " external IP", target, extra...)
	}
	for _, ip := range p.sp.LoadBalancerIPs {
		if !ip.Is4() {
			continue
		}
		b.dest(t, chain, p, ip, p.sp.Port, " loadbalancer IP", target, extra...)
	}
}

// filterRules reject traffic to a port with no endpoints to reach (and drop
// external traffic of an ExternalLocal port with no local endpoints).
func (b *builder) filterRules(p port, hasCluster, hasExternal bool) {
	if !hasCluster {
		b.dest(b.shared[tableFilter][chainServices], chainServices, p, p.sp.ClusterIP, p.sp.Port, " has no endpoints",
			"REJECT", " --reject-with icmp-port-unreachable")
	}
	if !p.sp.HasExternal() || hasExternal {
		return
	}
	verdict, extra := "REJECT", " --reject-with icmp-port-unreachable"
	if p.sp.ExternalLocal {
		verdict, extra = "DROP", ""
	}
	ext := b.shared[tableFilter][chainExternalServices]
	b.externalDests(ext, chainExternalServices, p, verdict, extra)
	if p.sp.NodePort != 0 {
		ext.s("-A ", chainExternalServices, " -p ", p.proto).s(` -m comment --comment "`, p.comment, ` has no endpoints"`).
			s(" -m addrtype --dst-type LOCAL").dport(p.proto, p.sp.NodePort).s(" -j ", verdict, extra).ln()
	}
}
