package nftables

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/proxy"
)

// Key expressions: a cluster, external or load-balancer IP frontend is
// matched on its address, protocol and port; a node port on protocol and
// port (at a local destination).
const (
	ipKey = "ip daddr . meta l4proto . th dport"
	npKey = "meta l4proto . th dport"
)

// kind is one family of DNAT maps: frontends keyed alike whose packets are
// balanced over one set of endpoints.
type kind struct {
	name     string // map names: <name>-<n>, <name>-affinity
	nodePort bool   // keyed by npKey at a local destination, else by ipKey
}

// The four kinds: everything (cluster IPs, external IPs, node ports), and
// external traffic to ExternalLocal frontends, which only local endpoints
// serve.
var (
	kindSvc     = kind{name: "svc"}
	kindNP      = kind{name: "np", nodePort: true}
	kindLocal   = kind{name: "local"}
	kindLocalNP = kind{name: "local-np", nodePort: true}
	allKinds    = [...]kind{kindSvc, kindNP, kindLocal, kindLocalNP}
)

// Set and map types.
const (
	mapTypeOfIP  = "ip daddr . meta l4proto . th dport . numgen random mod 1 : ip daddr . th dport"
	mapTypeOfNP  = "meta l4proto . th dport . numgen random mod 1 : ip daddr . th dport"
	vmapTypeIP   = "ipv4_addr . inet_proto . inet_service : verdict"
	vmapTypeNP   = "inet_proto . inet_service : verdict"
	setTypeIP    = "ipv4_addr . inet_proto . inet_service"
	setTypeNP    = "inet_proto . inet_service"
	affinitySize = uint64(65535)
)

// frontendSets names the sets of one key shape (IPs or node ports).
type frontendSets struct {
	masq, local, reject, drop string
	general, localOnly        kind
}

var (
	ipSets = frontendSets{masq: "masq-ips", local: "local-ips", reject: "reject-ips", drop: "drop-ips",
		general: kindSvc, localOnly: kindLocal}
	npSets = frontendSets{masq: "masq-nodeports", local: "local-nodeports", reject: "reject-nodeports",
		drop: "drop-nodeports", general: kindNP, localOnly: kindLocalNP}
)

// builder computes a state from a Snapshot, or a service port's part of
// one (update.go).
type builder struct {
	cfg proxy.Config
	s   *state
	// part is the service port being added: what it puts is its.
	part *svcPart
	// err is the first failure (two service ports given one name).
	err error
}

// compute is the pure function at the heart of the backend: the table's
// whole desired content for snap. It fails only when two service ports
// would share affinity chains (a hash collision), never silently.
func compute(cfg proxy.Config, snap *proxy.Snapshot) (*state, error) {
	return computeWith(cfg, snap, affinityName)
}

func computeWith(cfg proxy.Config, snap *proxy.Snapshot, affName func(proxy.ServicePortName) string) (*state, error) {
	s := newState()
	s.affName = affName
	b := &builder{cfg: cfg, s: s}
	s.nodeIPs = v4NodeIPs(snap)
	withNodeIPs := len(s.nodeIPs) > 0
	b.skeleton(withNodeIPs)
	// Room for the big ones up front: at 10k services, growing these maps
	// is a good part of compute's time.
	s.elems["cluster-ips"] = make(map[string]elem, len(snap.Services))
	s.elems["hairpin"] = make(map[string]elem, 3*len(snap.Services))
	s.svcs = make(map[proxy.ServicePortName]*svcPart, len(snap.Services))
	for _, ip := range s.nodeIPs {
		s.put("node-ips", []string{ip})
	}
	b.pinMaps()
	// In name order, so that two service ports claiming one frontend (a
	// shared external IP, say) always resolve the same way: the last one
	// in name order wins (own keeps the owners in that order, so an update
	// resolves it alike).
	for _, name := range sortedNames(snap.Services) {
		if sp := snap.Services[name]; sp.ClusterIP.Is4() {
			b.addService(sp, snap.Endpoints[name])
		}
	}
	b.natRules(withNodeIPs)
	if b.err != nil {
		return nil, b.err
	}
	return s, nil
}

// v4NodeIPs are the snapshot's IPv4 node addresses, as text.
func v4NodeIPs(snap *proxy.Snapshot) []string {
	var ips []string
	for _, ip := range snap.NodeIPs {
		if ip.Is4() {
			ips = append(ips, ip.String())
		}
	}
	return ips
}

// addService adds one service port's part, which keeps a copy of its
// inputs (the snapshot's may be changed by its owner later).
func (b *builder) addService(sp *proxy.ServicePort, eps []proxy.Endpoint) {
	// Room for the usual puts: the cluster IP, one element per endpoint
	// for it and for a node port, and a node port's own.
	part := &svcPart{name: sp.Name, sp: copyServicePort(sp), eps: slices.Clone(eps),
		puts: make([]elemRef, 0, 2+2*len(eps))}
	b.s.svcs[sp.Name] = part
	b.part = part
	b.service(&part.sp, part.eps)
	b.part = nil
}

// own puts an element of the service port being added.
func (b *builder) own(name string, key []string, value ...string) {
	b.s.own(b.part, name, key, value)
}

// service adds one service port's elements (and affinity chains).
func (b *builder) service(sp *proxy.ServicePort, eps []proxy.Endpoint) {
	proto := strings.ToLower(string(sp.Protocol))
	port := strconv.Itoa(int(sp.Port))
	cluster := proxy.ClusterEndpoints(sp, eps)
	external := proxy.ExternalEndpoints(sp, eps)
	b.hairpin(cluster)
	b.hairpin(external)
	key := []string{sp.ClusterIP.String(), proto, port}
	b.own("cluster-ips", key)
	if len(cluster) == 0 {
		b.own(ipSets.reject, key)
	} else {
		b.target(kindSvc, key, sp, "c", cluster)
	}
	for _, ip := range slices.Concat(sp.ExternalIPs, sp.LoadBalancerIPs) {
		if ip.Is4() {
			b.external(sp, ipSets, []string{ip.String(), proto, port}, cluster, external)
		}
	}
	if sp.NodePort != 0 {
		b.external(sp, npSets, []string{proto, strconv.Itoa(int(sp.NodePort))}, cluster, external)
	}
}

// external adds an external frontend (external IP, load-balancer IP or
// node port): masqueraded unless ExternalLocal; with ExternalLocal,
// traffic from outside reaches local endpoints only (none: dropped) while
// pods and the node itself are served as cluster traffic.
func (b *builder) external(sp *proxy.ServicePort, fs frontendSets, key []string, cluster, external []proxy.Endpoint) {
	switch {
	case len(cluster) == 0 && len(external) == 0:
		b.own(fs.reject, key)
	case sp.ExternalLocal:
		b.own(fs.local, key)
		if len(external) == 0 {
			b.own(fs.drop, key)
		} else {
			b.target(fs.localOnly, key, sp, "e", external)
		}
		if len(cluster) > 0 {
			b.target(fs.general, key, sp, "c", cluster)
		}
	case len(external) == 0:
		b.own(fs.reject, key)
	default:
		b.own(fs.masq, key)
		scope := "e"
		if slices.Equal(cluster, external) {
			scope = "c"
		}
		b.target(fs.general, key, sp, scope, external)
	}
}

// target sends key's packets to eps: through the kind's data map for n =
// len(eps) or, with affinity, through the service's affinity chain.
func (b *builder) target(k kind, key []string, sp *proxy.ServicePort, scope string, eps []proxy.Endpoint) {
	if sp.AffinityTimeout > 0 {
		b.own(k.name+"-affinity", key, "goto "+b.affinity(sp, scope, eps))
		return
	}
	name := b.dataMap(k, len(eps))
	for i, e := range eps {
		b.own(name, append(slices.Clip(key), strconv.Itoa(i)), e.IP.String(), strconv.Itoa(int(e.Port)))
	}
}

// pinnedCounts is how many endpoint counts (1 to pinnedCounts) have their
// data maps and DNAT rules whether or not a Service uses them. A count
// that appears or goes rewrites the DNAT chains, which nft 1.0.6 refuses
// in a partial transaction (see keepMap), so it made the sync a full one:
// at 10,000 Services, scaling one Deployment from 3 to 4 pods cost a full
// sync. With the common counts always there, it is a few element
// operations; the price is up to pinnedCounts failed map lookups per kind
// on the first packet of a connection (conntrack handles the rest).
const pinnedCounts = 16

// pinMaps adds the data maps of the pinned counts, each with a permanent
// user so that it never goes.
func (b *builder) pinMaps() {
	for _, k := range allKinds {
		for n := 1; n <= pinnedCounts; n++ {
			b.newDataMap(k, k.name+"-"+strconv.Itoa(n))
		}
	}
}

// dataMap returns the name of kind k's map for n endpoints, adding it.
func (b *builder) dataMap(k kind, n int) string {
	name := k.name + "-" + strconv.Itoa(n)
	b.part.maps = append(b.part.maps, name)
	if b.s.mapUsers[name] == 0 {
		b.newDataMap(k, name)
	} else {
		b.s.mapUsers[name]++
	}
	return name
}

// newDataMap adds kind k's data map name with one user.
func (b *builder) newDataMap(k kind, name string) {
	typeOf := mapTypeOfIP
	if k.nodePort {
		typeOf = mapTypeOfNP
	}
	b.s.mapUsers[name] = 1
	b.s.addMap(&knftables.Map{Name: name, TypeOf: typeOf})
}

// hairpin adds the pairs of the endpoints that may be on this node: only
// a pod here reaches itself through this node's DNAT (a pod elsewhere is
// DNATed by its own node), which is why kube-proxy's IPVS mode keeps only
// local endpoints in KUBE-LOOP-BACK. An endpoint with no nodeName (a slice
// made by hand) may be here, so it keeps its pair. At 10,000 Services with
// 3 endpoints on other nodes that is 30,000 elements fewer to load.
func (b *builder) hairpin(eps []proxy.Endpoint) {
	for _, e := range eps {
		if e.Local || e.NodeName == "" {
			b.own("hairpin", []string{e.IP.String(), e.IP.String()})
		}
	}
}

// affinity adds the chains and sets of a ClientIP-affinity service port:
// one chain that sends a known client to its endpoint and picks one at
// random for a new client, and per endpoint a chain that records the
// client (with the timeout) and DNATs. Chain names carry a hash of the
// port's name and the endpoint's address. The cluster IP and a node port
// of one port share the chains; two ports never do (b.err).
func (b *builder) affinity(sp *proxy.ServicePort, scope string, eps []proxy.Endpoint) string {
	base := "aff-" + b.s.affName(sp.Name) + "-" + scope
	if owner, ok := b.s.affOwner[base]; ok {
		if owner != sp.Name && b.err == nil {
			b.err = fmt.Errorf("affinity chain %s: name collision between service ports %s and %s", base, owner, sp.Name)
		}
		return base
	}
	b.s.affOwner[base] = sp.Name
	b.part.bases = append(b.part.bases, base)
	c := b.addChain(base)
	timeout := time.Duration(sp.AffinityTimeout) * time.Second
	proto := strings.ToLower(string(sp.Protocol))
	picks := make([]string, len(eps))
	for i, e := range eps {
		name := base + "-" + e.IP.String() + "-" + strconv.Itoa(int(e.Port))
		// Dynamic, as nft makes a set that a rule updates: a full sync
		// adds it again, and the kernel refuses different flags.
		b.part.sets = append(b.part.sets, name)
		b.s.addSet(&knftables.Set{Name: name, Type: "ipv4_addr", Flags: []knftables.SetFlag{knftables.DynamicFlag},
			Timeout: &timeout, Size: ptr(affinitySize)})
		b.addChain(name).add("meta l4proto", proto, "update @"+name, "{ ip saddr }", "dnat ip to", e.String())
		c.add("ip saddr @"+name, "goto", name)
		picks[i] = fmt.Sprintf("%d : goto %s", i, name)
	}
	// " , " (not ", "): a chain name followed by a comma would confuse the
	// fake's reference check.
	c.add(fmt.Sprintf("numgen random mod %d vmap { %s }", len(eps), strings.Join(picks, " , ")))
	return base
}

func sortedNames(m map[proxy.ServicePortName]*proxy.ServicePort) []proxy.ServicePortName {
	names := make([]proxy.ServicePortName, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := names[i], names[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		return a.Protocol < b.Protocol
	})
	return names
}

// affinityName is the first 16 characters of base32(sha256(n)), lower
// case: 80 bits, so that no two service ports meet in practice (a 32-bit
// hash collides at a few tens of thousands of names).
func affinityName(n proxy.ServicePortName) string {
	sum := sha256.Sum256([]byte(n.String()))
	return strings.ToLower(base32.StdEncoding.EncodeToString(sum[:])[:16])
}

func ptr[T any](v T) *T { return &v }

// addChain adds a chain of the service port being added.
func (b *builder) addChain(name string) *chain {
	b.part.chains = append(b.part.chains, name)
	return b.s.addChain(name)
}

// sortedNs are the endpoint counts of kind k in use (its data maps),
// ascending.
func (b *builder) sortedNs(k kind) []int {
	var ns []int
	for name := range b.s.maps {
		if n, err := strconv.Atoi(strings.TrimPrefix(name, k.name+"-")); err == nil && strings.HasPrefix(name, k.name+"-") {
			ns = append(ns, n)
		}
	}
	sort.Ints(ns)
	return ns
}
