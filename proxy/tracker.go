package proxy

import (
	"maps"
	"net/netip"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// defaultAffinityTimeout is ClientIP affinity's timeout when the Service
// names none (kube's default, 3 hours).
const defaultAffinityTimeout = 10800

// Tracker keeps the Services and EndpointSlices the informers deliver and
// builds Snapshots from them. It is safe for concurrent use.
type Tracker struct {
	nodeName string

	mu       sync.Mutex
	services map[types.NamespacedName][]*ServicePort
	slices   map[types.NamespacedName]map[string]*discoveryv1.EndpointSlice // by service, by slice name
	nodeIPs  []netip.Addr

	// The last snapshot's service ports and endpoints, kept between
	// Snapshot calls: only the Services whose object or slices changed
	// since (dirty) are computed again, so that one change costs the same
	// at 10 or 10,000 Services. names are the ports each Service gave.
	ports map[ServicePortName]*ServicePort
	eps   map[ServicePortName][]Endpoint
	names map[types.NamespacedName][]ServicePortName
	dirty map[types.NamespacedName]bool
	seq   uint64
}

// NewTracker makes a tracker for the node called nodeName.
func NewTracker(nodeName string) *Tracker {
	return &Tracker{nodeName: nodeName, services: map[types.NamespacedName][]*ServicePort{},
		slices: map[types.NamespacedName]map[string]*discoveryv1.EndpointSlice{},
		ports:  map[ServicePortName]*ServicePort{}, eps: map[ServicePortName][]Endpoint{},
		names: map[types.NamespacedName][]ServicePortName{}, dirty: map[types.NamespacedName]bool{}}
}

// SetNodeIPs sets the addresses node ports answer on.
func (t *Tracker) SetNodeIPs(ips []netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nodeIPs = append([]netip.Addr(nil), ips...)
}

// LabelServiceProxyName hands a Service to another proxy: kube-proxy, and
// so this one, leave a Service with this label alone.
const LabelServiceProxyName = "service.kubernetes.io/service-proxy-name"

// UpdateService records svc (an add or an update).
func (t *Tracker) UpdateService(svc *corev1.Service) {
	key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	var ports []*ServicePort
	if _, other := svc.Labels[LabelServiceProxyName]; !other {
		ports = servicePorts(svc)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dirty[key] = true
	if len(ports) == 0 {
		delete(t.services, key)
		return
	}
	t.services[key] = ports
}

// DeleteService forgets a Service.
func (t *Tracker) DeleteService(svc *corev1.Service) {
	key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dirty[key] = true
	delete(t.services, key)
}

// NodeIPs returns the addresses node ports answer on.
func (t *Tracker) NodeIPs() []netip.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]netip.Addr(nil), t.nodeIPs...)
}

// UpdateSlice records an EndpointSlice; slices of no Service or of another
// address type than IPv4 are ignored.
func (t *Tracker) UpdateSlice(s *discoveryv1.EndpointSlice) {
	svc, ok := sliceService(s)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dirty[svc] = true
	if t.slices[svc] == nil {
		t.slices[svc] = map[string]*discoveryv1.EndpointSlice{}
	}
	t.slices[svc][s.Name] = s
}

// DeleteSlice forgets an EndpointSlice.
func (t *Tracker) DeleteSlice(s *discoveryv1.EndpointSlice) {
	svc, ok := sliceService(s)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dirty[svc] = true
	delete(t.slices[svc], s.Name)
	if len(t.slices[svc]) == 0 {
		delete(t.slices, svc)
	}
}

func sliceService(s *discoveryv1.EndpointSlice) (types.NamespacedName, bool) {
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" || s.AddressType != discoveryv1.AddressTypeIPv4 {
		return types.NamespacedName{}, false
	}
	return types.NamespacedName{Namespace: s.Namespace, Name: name}, true
}

// Snapshot builds the desired state from what the tracker holds now. It
// computes again only the Services changed since the last Snapshot, and
// says which service ports those were (Snapshot.Changed). Only one caller
// (the proxy's sync loop) may take snapshots: each one's Changed is
// relative to the one before.
func (t *Tracker) Snapshot() *Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	// The first snapshot follows none, so no Changed (ChangedSince says
	// it cannot tell) and room for every Service up front.
	var changed map[ServicePortName]struct{}
	if t.seq == 0 {
		t.ports = make(map[ServicePortName]*ServicePort, len(t.dirty))
		t.eps = make(map[ServicePortName][]Endpoint, len(t.dirty))
		t.names = make(map[types.NamespacedName][]ServicePortName, len(t.dirty))
	} else {
		changed = make(map[ServicePortName]struct{}, len(t.dirty))
	}
	for key := range t.dirty {
		t.recompute(key, changed)
	}
	clear(t.dirty)
	t.seq++
	// The maps are copied (about 2 ms at 10,000 Services): the sync loop
	// keeps the last snapshot to compare the next one with.
	return &Snapshot{Services: maps.Clone(t.ports), Endpoints: maps.Clone(t.eps),
		NodeIPs: append([]netip.Addr(nil), t.nodeIPs...), Seq: t.seq, Changed: changed}
}

// recompute replaces Service key's ports and endpoints in the kept
// snapshot, adding the ports it had and has to changed (when not nil).
func (t *Tracker) recompute(key types.NamespacedName, changed map[ServicePortName]struct{}) {
	for _, name := range t.names[key] {
		delete(t.ports, name)
		delete(t.eps, name)
		if changed != nil {
			changed[name] = struct{}{}
		}
	}
	delete(t.names, key)
	ports := t.services[key]
	if len(ports) == 0 {
		return
	}
	names := make([]ServicePortName, 0, len(ports))
	for _, sp := range ports {
		t.ports[sp.Name] = sp
		names = append(names, sp.Name)
		if changed != nil {
			changed[sp.Name] = struct{}{}
		}
	}
	t.names[key] = names
	for _, pe := range sliceEndpoints(key, t.slices[key], t.nodeName) {
		if _, ok := t.ports[pe.name]; ok {
			t.eps[pe.name] = pe.eps
		}
	}
}

// portEndpoints are one service port's endpoints.
type portEndpoints struct {
	name ServicePortName
	eps  []Endpoint
}

// sliceEndpoints merges a Service's slices into endpoints per port, sorted
// and without duplicates (an address in two slices while it moves counts
// once, ready if either says so).
func sliceEndpoints(svc types.NamespacedName, slices map[string]*discoveryv1.EndpointSlice, node string) []portEndpoints {
	// Most Services have one port: a short list beats a map per port.
	var byPort []portEndpoints
	for _, sl := range slices {
		for _, p := range sl.Ports {
			if p.Port == nil {
				continue
			}
			name := ServicePortName{NamespacedName: svc, Port: deref(p.Name), Protocol: protocolOf(p.Protocol)}
			i := 0
			for i < len(byPort) && byPort[i].name != name {
				i++
			}
			if i == len(byPort) {
				byPort = append(byPort, portEndpoints{name: name, eps: make([]Endpoint, 0, len(sl.Endpoints))})
			}
			for _, e := range sl.Endpoints {
				if ep, ok := sliceEndpoint(e, *p.Port, node); ok {
					byPort[i].eps = append(byPort[i].eps, ep)
				}
			}
		}
	}
	for i := range byPort {
		byPort[i].eps = sortedUnique(byPort[i].eps)
	}
	return byPort
}

// sliceEndpoint reads an EndpointSlice endpoint on port; false for one
// without an IPv4 address.
func sliceEndpoint(e discoveryv1.Endpoint, port int32, node string) (Endpoint, bool) {
	if len(e.Addresses) == 0 {
		return Endpoint{}, false
	}
	ip, err := netip.ParseAddr(e.Addresses[0])
	if err != nil || !ip.Is4() {
		return Endpoint{}, false
	}
	return endpointOf(e, ip, port, node), true
}

// sortedUnique sorts eps by address and port and keeps one endpoint per
// address and port: a ready one if there is one.
func sortedUnique(eps []Endpoint) []Endpoint {
	slices.SortStableFunc(eps, func(a, b Endpoint) int { return a.AddrPort().Compare(b.AddrPort()) })
	out := eps[:0]
	for _, e := range eps {
		if n := len(out); n > 0 && out[n-1].AddrPort() == e.AddrPort() {
			if !out[n-1].Ready && e.Ready {
				out[n-1] = e
			}
			continue
		}
		out = append(out, e)
	}
	return out
}

// endpointOf reads the conditions as kube-proxy does: ready unset means
// ready, serving unset means ready's value, terminating unset means false.
func endpointOf(e discoveryv1.Endpoint, ip netip.Addr, port int32, node string) Endpoint {
	ready := e.Conditions.Ready == nil || *e.Conditions.Ready
	serving := ready
	if e.Conditions.Serving != nil {
		serving = *e.Conditions.Serving
	}
	terminating := e.Conditions.Terminating != nil && *e.Conditions.Terminating
	// Ready is taken as given: a terminating endpoint the controller calls
	// ready (publishNotReadyAddresses) still gets traffic, as in kube-proxy.
	ep := Endpoint{IP: ip, Port: port, Ready: ready, Serving: serving, Terminating: terminating}
	if e.NodeName != nil {
		ep.NodeName = *e.NodeName
		ep.Local = node != "" && *e.NodeName == node
	}
	return ep
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func protocolOf(p *corev1.Protocol) corev1.Protocol {
	if p == nil || *p == "" {
		return corev1.ProtocolTCP
	}
	return *p
}
