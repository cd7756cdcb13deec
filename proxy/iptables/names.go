package iptables

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	corev1 "k8s.io/api/core/v1"
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

// hash is the first 16 characters of base32(sha256(parts...)).
func hash(parts ...string) [16]byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	var enc [56]byte
	base32.StdEncoding.Encode(enc[:], h.Sum(sum[:0]))
	return [16]byte(enc[:16])
}

// hashed is prefix + hash: 25 characters, under iptables' limit of 28.
func hashed(prefix string, h [16]byte) string {
	return prefix + string(h[:])
}

// portChains are the names of one service port's chains.
type portChains struct {
	svc, ext, svl string
}

// chainsFor names the chains of the service port whose
// ServicePortName.String() is key: prefix + hash(key + protocol).
func chainsFor(key string, proto corev1.Protocol) portChains {
	h := hash(key, string(proto))
	return portChains{svc: hashed(prefixSvc, h), ext: hashed(prefixExt, h), svl: hashed(prefixSvl, h)}
}

// sepChain names the chain of endpoint ep ("ip:port") of service port key.
func sepChain(key, proto, ep string) string {
	return hashed(prefixSep, hash(key, proto, ep))
}
