package iptables

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/nodeagent/nodeagent/proxy"
)

// The tables this mode writes, in the order a restore input holds them.
const (
	tableNAT    = "nat"
	tableFilter = "filter"
)

var tables = [...]string{tableNAT, tableFilter}

// The fixed chains this mode owns.
const (
	chainServices         = "KUBE-SERVICES"
	chainNodePorts        = "KUBE-NODEPORTS"
	chainPostrouting      = "KUBE-POSTROUTING"
	chainMarkMasq         = "KUBE-MARK-MASQ"
	chainExternalServices = "KUBE-EXTERNAL-SERVICES"
	chainForward          = "KUBE-FORWARD"
)

// Prefixes of the per-service-port and per-endpoint chains (nat).
const (
	prefixSvc = "KUBE-SVC-" // cluster traffic, balanced over the cluster endpoints
	prefixExt = "KUBE-EXT-" // node-port, external and load-balancer traffic
	prefixSvl = "KUBE-SVL-" // external traffic's own endpoint set, when it differs
	prefixSep = "KUBE-SEP-" // one endpoint: hairpin masquerade and DNAT
)

// fixedChains are the chains every sync declares, per table.
var fixedChains = map[string][]string{
	tableNAT:    {chainServices, chainNodePorts, chainPostrouting, chainMarkMasq},
	tableFilter: {chainServices, chainExternalServices, chainForward},
}

// owned says whether chain is one this mode makes (and so may delete).
// KUBE-MARK-DROP, KUBE-FIREWALL and the canaries belong to others.
func owned(chain string) bool {
	switch chain {
	case chainServices, chainNodePorts, chainPostrouting, chainMarkMasq, chainExternalServices, chainForward:
		return true
	}
	for _, p := range [...]string{prefixSvc, prefixExt, prefixSvl, prefixSep} {
		if strings.HasPrefix(chain, p) {
			return true
		}
	}
	return false
}

// hashChain is prefix + the first 16 characters of base32(sha256(parts)):
// 25 characters, under iptables' 28-character limit.
func hashChain(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	var enc [56]byte
	base32.StdEncoding.Encode(enc[:], h.Sum(sum[:0]))
	var name [32]byte
	n := copy(name[:], prefix)
	n += copy(name[n:], enc[:16])
	return string(name[:n])
}

// portChains are the names of one service port's chains.
type portChains struct {
	svc, ext, svl string
}

func chainsFor(n proxy.ServicePortName) portChains {
	key := n.String()
	proto := string(n.Protocol)
	return portChains{
		svc: hashChain(prefixSvc, key, proto),
		ext: hashChain(prefixExt, key, proto),
		svl: hashChain(prefixSvl, key, proto),
	}
}

// sepChain names the chain of endpoint ep ("ip:port") of service port key.
func sepChain(key, proto, ep string) string {
	return hashChain(prefixSep, key, proto, ep)
}
