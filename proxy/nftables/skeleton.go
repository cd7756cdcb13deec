package nftables

import (
	"fmt"
	"strconv"

	"sigs.k8s.io/knftables"
)

// Chains of the table.
const (
	chainPrerouting    = "nat-prerouting"
	chainOutput        = "nat-output"
	chainPostrouting   = "nat-postrouting"
	chainFilterInput   = "filter-input"
	chainFilterForward = "filter-forward"
	chainFilterOutput  = "filter-output"
	chainServices      = "services"
	chainExternalLocal = "external-local"
	chainNodePortLocal = "nodeport-local"
	chainEndpointCheck = "endpoint-check"
)

// skeleton adds what every table has: the base chains, their fixed rules,
// and the sets and maps that do not depend on endpoint counts.
func (b *builder) skeleton(withNodeIPs bool) {
	s := b.s
	s.addBaseChain(chainPrerouting, knftables.NATType, knftables.PreroutingHook, knftables.DNATPriority).add("jump", chainServices)
	// "dstnat" is only a name in prerouting; -100 is the same priority.
	s.addBaseChain(chainOutput, knftables.NATType, knftables.OutputHook, "-100").add("jump", chainServices)
	post := s.addBaseChain(chainPostrouting, knftables.NATType, knftables.PostroutingHook, knftables.SNATPriority)
	post.add(b.markIsSet(), "meta mark set meta mark ^", b.mark(), "masquerade")
	post.add("ct status dnat ip saddr . ip daddr @hairpin masquerade")
	for _, name := range []string{chainFilterInput, chainFilterForward, chainFilterOutput} {
		hook := map[string]knftables.BaseChainHook{chainFilterInput: knftables.InputHook,
			chainFilterForward: knftables.ForwardHook, chainFilterOutput: knftables.OutputHook}[name]
		s.addBaseChain(name, knftables.FilterType, hook, knftables.FilterPriority).add("jump", chainEndpointCheck)
	}
	s.chains[chainFilterForward].add(b.markIsSet(), "accept")
	b.endpointCheck(withNodeIPs)
	for _, name := range []string{"cluster-ips", ipSets.masq, ipSets.local, ipSets.reject, ipSets.drop} {
		s.addSet(&knftables.Set{Name: name, Type: setTypeIP})
	}
	for _, name := range []string{npSets.masq, npSets.local, npSets.reject, npSets.drop} {
		s.addSet(&knftables.Set{Name: name, Type: setTypeNP})
	}
	s.addSet(&knftables.Set{Name: "hairpin", Type: "ipv4_addr . ipv4_addr"})
	if withNodeIPs {
		s.addSet(&knftables.Set{Name: "node-ips", Type: "ipv4_addr"})
	}
	for _, k := range allKinds {
		typ := vmapTypeIP
		if k.nodePort {
			typ = vmapTypeNP
		}
		s.addMap(&knftables.Map{Name: k.name + "-affinity", Type: typ})
	}
}

// endpointCheck rejects (or, for ExternalLocal without local endpoints,
// drops) what reaches a frontend nothing serves: such packets were not
// DNATed, so they still carry the frontend's address.
func (b *builder) endpointCheck(withNodeIPs bool) {
	c := b.s.addChain(chainEndpointCheck)
	local := localDst(withNodeIPs)
	c.add("meta l4proto tcp", ipKey, "@"+ipSets.reject, "reject with tcp reset")
	c.add(ipKey, "@"+ipSets.reject, "reject")
	c.add(ipKey, "@"+ipSets.drop, "drop")
	c.add(local, "meta l4proto tcp", npKey, "@"+npSets.reject, "reject with tcp reset")
	c.add(local, npKey, "@"+npSets.reject, "reject")
	c.add(local, npKey, "@"+npSets.drop, "drop")
}

// natRules fills the services chain and the two ExternalLocal chains,
// which depend on the endpoint counts in use: one DNAT rule per count.
// They are made anew and replace the chains only where they differ.
func (b *builder) natRules(withNodeIPs bool) {
	local := localDst(withNodeIPs)
	mark := "meta mark set meta mark | " + b.mark()
	c := &chain{def: knftables.Chain{Name: chainServices}}
	outside := "fib saddr type != local"
	if b.cfg.ClusterCIDR.IsValid() {
		c.add("ip saddr !=", b.cfg.ClusterCIDR.String(), ipKey, "@cluster-ips", mark)
		outside = "ip saddr != " + b.cfg.ClusterCIDR.String() + " " + outside
	}
	c.add(ipKey, "@"+ipSets.masq, mark)
	c.add(local, npKey, "@"+npSets.masq, mark)
	c.add("fib saddr type local", ipKey, "@"+ipSets.local, mark)
	c.add("fib saddr type local", local, npKey, "@"+npSets.local, mark)
	c.add(outside, ipKey, "@"+ipSets.local, "goto", chainExternalLocal)
	c.add(outside, local, npKey, "@"+npSets.local, "goto", chainNodePortLocal)
	b.dnatRules(c, kindSvc, local)
	b.dnatRules(c, kindNP, local)
	extLocal := &chain{def: knftables.Chain{Name: chainExternalLocal}}
	b.dnatRules(extLocal, kindLocal, local)
	npLocal := &chain{def: knftables.Chain{Name: chainNodePortLocal}}
	b.dnatRules(npLocal, kindLocalNP, local)
	for _, c := range []*chain{c, extLocal, npLocal} {
		if old, ok := b.s.chains[c.def.Name]; !ok || !sameChain(old, c) {
			b.s.setChain(c)
		}
	}
}

// dnatRules adds kind k's affinity lookup and one DNAT rule per endpoint
// count n: a packet whose frontend is not in the map for n fails the
// lookup, which ends that rule, and tries the next n.
func (b *builder) dnatRules(c *chain, k kind, local string) {
	key, prefix := ipKey, ""
	if k.nodePort {
		key, prefix = npKey, local+" "
	}
	c.add(prefix+key, "vmap @"+k.name+"-affinity")
	for _, n := range b.sortedNs(k) {
		c.add(prefix+"dnat ip to", key, ". numgen random mod", strconv.Itoa(n), "map @"+k.name+"-"+strconv.Itoa(n))
	}
}

// localDst matches a packet to one of the node's addresses: the
// snapshot's node IPs, or any local address but loopback.
func localDst(withNodeIPs bool) string {
	if withNodeIPs {
		return "ip daddr @node-ips"
	}
	return "fib daddr type local ip daddr != 127.0.0.0/8"
}

func (b *builder) mark() string { return fmt.Sprintf("%#x", b.cfg.MasqueradeMark()) }

func (b *builder) markIsSet() string {
	return "meta mark & " + b.mark() + " == " + b.mark()
}
