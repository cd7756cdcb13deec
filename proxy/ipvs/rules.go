package ipvs

import (
	"fmt"
	"strings"
)

// Chain names. Every chain this package makes starts with ChainPrefix.
const (
	ChainPrefix      = "NODEAGENT-IPVS-"
	ChainPostrouting = ChainPrefix + "POSTROUTING"
	ChainForward     = ChainPrefix + "FORWARD"
	ChainPrerouting  = ChainPrefix + "PREROUTING"
)

// Chain is one of our chains: where it is jumped to from and what it holds.
type Chain struct {
	Table string
	Name  string
	// From is the built-in chain whose first rule jumps to Name.
	From  string
	Rules [][]string
}

// JumpSpec is the rule in c.From that jumps to c.
func (c Chain) JumpSpec() []string {
	return []string{"-m", "comment", "--comment", "nodeagent ipvs", "-j", c.Name}
}

// Rules is the iptables edge: a FIXED set of companion chains (their size
// does not grow with the number of Services). NewRules is the real one
// (github.com/coreos/go-iptables), FakeRules keeps tables in memory.
type Rules interface {
	// Ensure makes each chain exist with exactly its rules and the jump to
	// it in place.
	Ensure(chains []Chain) error
	// Cleanup removes the jumps to and the chains of FixedChains; missing
	// ones are not an error.
	Cleanup() error
}

// FixedChains are the chains we own, empty of rules: what Cleanup removes.
func FixedChains() []Chain {
	return []Chain{
		{Table: "nat", Name: ChainPostrouting, From: "POSTROUTING"},
		{Table: "filter", Name: ChainForward, From: "FORWARD"},
		{Table: "nat", Name: ChainPrerouting, From: "PREROUTING"},
	}
}

// CompanionRules is what IPVS mode needs from iptables besides the virtual
// servers: masquerade for IPVS-forwarded connections that would otherwise
// not come back through this node and for a pod that reached itself
// (LoopBackSet; other pod-to-pod connections keep the client's address),
// and accepting forwarded traffic that is marked for masquerade or belongs
// to a known connection (IPVS replies cross FORWARD; a DROP policy there
// would break them). In nat PREROUTING, where a packet still has its
// original destination, a connection to a node port, external IP or
// load-balancer IP of a Service with externalTrafficPolicy Local (the
// LOCAL-* sets) gets the no-masquerade bit, and the POSTROUTING rule for
// service traffic from outside the pods skips packets that carry it.
func CompanionRules(cfg Config) []Chain {
	mark := fmt.Sprintf("0x%x/0x%x", cfg.MasqueradeMark(), cfg.MasqueradeMark())
	local := fmt.Sprintf("0x%x/0x%x", cfg.NoMasqueradeMark(), cfg.NoMasqueradeMark())
	ipvsMasq := []string{"-m", "ipvs", "--ipvs", "--vdir", "ORIGINAL", "--vmethod", "MASQ"}
	nat := [][]string{{"-m", "mark", "--mark", mark, "-m", "comment", "--comment", "marked for masquerade", "-j", "MASQUERADE"}}
	if cfg.ClusterCIDR.IsValid() {
		nat = append(nat, concat(ipvsMasq, "!", "-s", cfg.ClusterCIDR.String(), "-m", "mark", "!", "--mark", local,
			"-m", "comment", "--comment", "service traffic from outside the pods", "-j", "MASQUERADE"))
	}
	nat = append(nat, []string{"-m", "set", "--match-set", LoopBackSet, "dst,dst,src",
		"-m", "comment", "--comment", "a pod reaching itself through a service (hairpin)", "-j", "MASQUERADE"})
	filter := [][]string{
		{"-m", "mark", "--mark", mark, "-j", "ACCEPT"},
		{"-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
	}
	fixed := FixedChains()
	fixed[0].Rules, fixed[1].Rules, fixed[2].Rules = nat, filter, localRules(local)
	return fixed
}

// localRules mark, in nat PREROUTING, a new connection to a node port,
// external IP or load-balancer IP of a Service with externalTrafficPolicy
// Local so that it keeps its source address.
func localRules(local string) [][]string {
	var out [][]string
	for _, set := range []string{LocalNodePortSet, LocalExternalIPSet, LocalLoadBalancerSet} {
		out = append(out, []string{"-m", "set", "--match-set", set, "dst,dst",
			"-m", "comment", "--comment", "externalTrafficPolicy Local: keep the client's address", "-j", "MARK", "--set-xmark", local})
	}
	return out
}

func concat(a []string, b ...string) []string {
	return append(append([]string{}, a...), b...)
}

// SpecString joins a rule spec as iptables-save would print it (quoting
// words with spaces).
func SpecString(spec []string) string {
	words := make([]string, len(spec))
	for i, w := range spec {
		if strings.ContainsAny(w, " \t") {
			w = `"` + w + `"`
		}
		words[i] = w
	}
	return strings.Join(words, " ")
}
