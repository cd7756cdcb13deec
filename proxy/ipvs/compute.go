package ipvs

import (
	"net/netip"
	"slices"
	"sort"

	"github.com/nodeagent/nodeagent/proxy"
)

// Desired is what one Sync leaves in the kernel: a plain value, computed
// from a Snapshot by Compute and diffed against what was applied.
type Desired struct {
	Services map[ServiceKey]VirtualServer
	// Dests are each virtual server's real servers (all weight 1), sorted;
	// a service with none has no entry.
	Dests map[ServiceKey][]netip.AddrPort
	// Addrs are the addresses bound to LinkName, sorted.
	Addrs []netip.Addr
	// Sets are the entries of each set of OwnSets by name, sorted:
	// LoopBackSet has this node's endpoints of every service (hairpin
	// masquerade); the LOCAL-* sets have the node ports, external IPs and
	// load-balancer IPs of the Services with externalTrafficPolicy Local
	// (no masquerade, so the client's address is kept).
	Sets map[string][]Entry
}

// Compute turns a snapshot into virtual servers: one per cluster IP:port,
// one per node IP for a node port, one per external and load-balancer IP.
// Cluster IPs take ClusterEndpoints, the others ExternalEndpoints. Only
// IPv4 is programmed. Where two services claim the same address:port
// (two Services with one external IP), the first by name wins, also for
// the LOCAL-* sets' entry.
func Compute(s *proxy.Snapshot, scheduler string) Desired {
	d := Desired{Services: map[ServiceKey]VirtualServer{}, Dests: map[ServiceKey][]netip.AddrPort{}, Sets: map[string][]Entry{}}
	addrs := map[netip.Addr]bool{}
	for _, name := range sortedNames(s) {
		sp := s.Services[name]
		eps := s.Endpoints[name]
		d.add(vsFor(sp, sp.ClusterIP, sp.Port, scheduler), proxy.ClusterEndpoints(sp, eps), addrs, true)
		d.addLoopBack(sp, eps)
		if sp.HasExternal() {
			d.addExternal(s, sp, proxy.ExternalEndpoints(sp, eps), scheduler, addrs)
		}
	}
	for a := range addrs {
		d.Addrs = append(d.Addrs, a)
	}
	slices.SortFunc(d.Addrs, netip.Addr.Compare)
	for name, entries := range d.Sets {
		slices.SortFunc(entries, compareEntries)
		d.Sets[name] = slices.Compact(entries)
	}
	return d
}

// addExternal adds the node-port, external-IP and load-balancer virtual
// servers of sp, and with externalTrafficPolicy Local their entries in the
// LOCAL-* sets.
func (d *Desired) addExternal(s *proxy.Snapshot, sp *proxy.ServicePort, ext []proxy.Endpoint, scheduler string, addrs map[netip.Addr]bool) {
	if sp.NodePort > 0 && sp.NodePort <= 65535 {
		for _, ip := range s.NodeIPs {
			vs := vsFor(sp, ip, sp.NodePort, scheduler)
			if d.add(vs, ext, addrs, false) && sp.ExternalLocal {
				d.addEntry(LocalNodePortSet, Entry{IP: vs.Addr, Port: vs.Port, Protocol: vs.Protocol})
			}
		}
	}
	for _, byIP := range []struct {
		set string
		ips []netip.Addr
	}{{LocalExternalIPSet, sp.ExternalIPs}, {LocalLoadBalancerSet, sp.LoadBalancerIPs}} {
		for _, ip := range byIP.ips {
			vs := vsFor(sp, ip, sp.Port, scheduler)
			if d.add(vs, ext, addrs, true) && sp.ExternalLocal {
				d.addEntry(byIP.set, Entry{IP: vs.Addr, Port: vs.Port, Protocol: vs.Protocol})
			}
		}
	}
}

func (d *Desired) addEntry(set string, e Entry) { d.Sets[set] = append(d.Sets[set], e) }

// addLoopBack records the service port's endpoints on this node: a pod
// that reaches itself through the service must be masqueraded, or it
// would answer itself directly and drop the reply.
func (d *Desired) addLoopBack(sp *proxy.ServicePort, eps []proxy.Endpoint) {
	for _, e := range eps {
		if e.Local && e.IP.Unmap().Is4() && e.Port > 0 && e.Port <= 65535 {
			d.addEntry(LoopBackSet, Entry{IP: e.IP.Unmap(), Port: uint16(e.Port), Protocol: sp.Protocol})
		}
	}
}

func vsFor(sp *proxy.ServicePort, ip netip.Addr, port int32, scheduler string) VirtualServer {
	vs := VirtualServer{ServiceKey: ServiceKey{Addr: ip.Unmap(), Port: uint16(port), Protocol: sp.Protocol},
		Scheduler: scheduler}
	if sp.AffinityTimeout > 0 {
		vs.Persistent, vs.Timeout = true, uint32(sp.AffinityTimeout)
	}
	return vs
}

// add records vs with eps as its real servers; bind says its address goes
// on the dummy link (not for node IPs, which the node already has). It
// says whether vs was taken (not IPv6, not claimed by an earlier service).
func (d *Desired) add(vs VirtualServer, eps []proxy.Endpoint, addrs map[netip.Addr]bool, bind bool) bool {
	if !vs.Addr.Is4() || vs.Port == 0 {
		return false
	}
	if _, taken := d.Services[vs.ServiceKey]; taken {
		return false
	}
	d.Services[vs.ServiceKey] = vs
	if bind {
		addrs[vs.Addr] = true
	}
	var dests []netip.AddrPort
	for _, e := range eps {
		if e.IP.Unmap().Is4() {
			dests = append(dests, netip.AddrPortFrom(e.IP.Unmap(), uint16(e.Port)))
		}
	}
	if len(dests) > 0 {
		slices.SortFunc(dests, netip.AddrPort.Compare)
		d.Dests[vs.ServiceKey] = slices.Compact(dests)
	}
	return true
}

func sortedNames(s *proxy.Snapshot) []proxy.ServicePortName {
	names := make([]proxy.ServicePortName, 0, len(s.Services))
	for n := range s.Services {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i].String() < names[j].String() })
	return names
}
