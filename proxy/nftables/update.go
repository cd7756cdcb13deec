package nftables

import (
	"maps"
	"slices"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/proxy"
)

// svcPart is one service port's part of a state: its inputs, to tell
// whether it changed, and what it put in, to take it out again. Only the
// service ports that changed are recomputed by a partial sync, so that
// one change costs the same at 10 or 10,000 Services.
type svcPart struct {
	name proxy.ServicePortName
	sp   proxy.ServicePort
	eps  []proxy.Endpoint
	// puts are the elements it owns (set or map name, key text); maps the
	// data maps it targets, once per target; chains and sets its affinity
	// objects, bases the affinity chain names it owns.
	puts                []elemRef
	maps                []string
	chains, sets, bases []string
}

type elemRef struct{ name, key string }

// copyServicePort is a copy of sp that shares nothing with it.
func copyServicePort(sp *proxy.ServicePort) proxy.ServicePort {
	c := *sp
	c.ExternalIPs = slices.Clone(sp.ExternalIPs)
	c.LoadBalancerIPs = slices.Clone(sp.LoadBalancerIPs)
	return c
}

// same says whether sp and eps are what the part was computed from.
func (p *svcPart) same(sp *proxy.ServicePort, eps []proxy.Endpoint) bool {
	a := &p.sp
	return a.Name == sp.Name && a.ClusterIP == sp.ClusterIP && a.Port == sp.Port && a.Protocol == sp.Protocol &&
		a.NodePort == sp.NodePort && a.AffinityTimeout == sp.AffinityTimeout &&
		a.ExternalLocal == sp.ExternalLocal && a.InternalLocal == sp.InternalLocal &&
		slices.Equal(a.ExternalIPs, sp.ExternalIPs) && slices.Equal(a.LoadBalancerIPs, sp.LoadBalancerIPs) &&
		slices.Equal(p.eps, eps)
}

// sameNodeIPs says whether snap has the node addresses s was computed
// for (they shape the skeleton: a change needs a computation from
// scratch).
func (s *state) sameNodeIPs(snap *proxy.Snapshot) bool {
	return slices.Equal(s.nodeIPs, v4NodeIPs(snap))
}

// update makes s the state for snap (with the node addresses s has) by
// taking out the parts of the service ports that changed or went and
// putting in those of the changed and new ones, then the DNAT chains
// again; the rest is only compared. It returns what the changes replaced.
// After an error (an affinity name collision) s is unusable.
func (s *state) update(cfg proxy.Config, snap *proxy.Snapshot) (*delta, error) {
	d := &delta{elems: map[string]map[string]*elem{}, chains: map[string]*chain{},
		sets: map[string]*knftables.Set{}, maps: map[string]*knftables.Map{}}
	s.delta = d
	defer func() { s.delta = nil }()
	var added []proxy.ServicePortName
	if changed, ok := snap.ChangedSince(s.seq); ok {
		added = s.takeOutChanged(snap, changed)
	} else {
		added = s.takeOutAllChanged(snap)
	}
	s.seq = snap.Seq
	slices.SortFunc(added, compareNames)
	b := &builder{cfg: cfg, s: s}
	for _, name := range added {
		b.addService(snap.Services[name], snap.Endpoints[name])
	}
	b.natRules(len(s.nodeIPs) > 0)
	return d, b.err
}

// takeOutChanged takes out the parts of the service ports the tracker
// says changed since the snapshot s was made for, when they differ or
// went, and returns the ports to put in: the cost follows the change.
func (s *state) takeOutChanged(snap *proxy.Snapshot, changed map[proxy.ServicePortName]struct{}) []proxy.ServicePortName {
	var added []proxy.ServicePortName
	for name := range changed {
		part, had := s.svcs[name]
		sp := snap.Services[name]
		if sp == nil || !sp.ClusterIP.Is4() {
			if had {
				s.removeService(part)
			}
			continue
		}
		if had {
			if part.same(sp, snap.Endpoints[name]) {
				continue
			}
			s.removeService(part)
		}
		added = append(added, name)
	}
	return added
}

// takeOutAllChanged compares every service port of snap with its part:
// one pass over the snapshot finds the new and changed ones (their parts
// are taken out); a second over the parts, only when some are left
// unmatched, the ones that went. It returns the ports to put in.
func (s *state) takeOutAllChanged(snap *proxy.Snapshot) []proxy.ServicePortName {
	var added []proxy.ServicePortName
	unchanged := 0
	for name, sp := range snap.Services {
		if !sp.ClusterIP.Is4() {
			continue
		}
		if part, ok := s.svcs[name]; ok {
			if part.same(sp, snap.Endpoints[name]) {
				unchanged++
				continue
			}
			s.removeService(part)
		}
		added = append(added, name)
	}
	if len(s.svcs) > unchanged {
		for name, part := range s.svcs {
			if sp := snap.Services[name]; sp == nil || !sp.ClusterIP.Is4() {
				s.removeService(part)
			}
		}
	}
	return added
}

// removeService takes part out of s: its claims on elements, its uses of
// data maps (a map nothing uses goes), its affinity chains and sets.
func (s *state) removeService(part *svcPart) {
	for _, r := range part.puts {
		s.disown(part, r.name, r.key)
	}
	for _, m := range part.maps {
		s.mapUsers[m]--
		if s.mapUsers[m] == 0 {
			delete(s.mapUsers, m)
			s.deleteMap(m)
		}
	}
	for _, c := range part.chains {
		s.deleteChain(c)
	}
	for _, set := range part.sets {
		s.deleteSet(set)
	}
	for _, base := range part.bases {
		delete(s.affOwner, base)
	}
	delete(s.svcs, part.name)
}

// compareNames orders service ports as sortedNames does.
func compareNames(a, b proxy.ServicePortName) int {
	switch {
	case a.Namespace != b.Namespace:
		return cmpString(a.Namespace, b.Namespace)
	case a.Name != b.Name:
		return cmpString(a.Name, b.Name)
	case a.Port != b.Port:
		return cmpString(a.Port, b.Port)
	}
	return cmpString(string(a.Protocol), string(b.Protocol))
}

func cmpString(a, b string) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// delta is what an update replaced: each touched element, chain, set and
// map as it was before (nil: it was not there).
type delta struct {
	elems  map[string]map[string]*elem
	chains map[string]*chain
	sets   map[string]*knftables.Set
	maps   map[string]*knftables.Map
}

// elem records element k of set or map name before its first change.
func (d *delta) elem(name, k string, e elem, ok bool) {
	if d == nil {
		return
	}
	m := d.elems[name]
	if m == nil {
		m = map[string]*elem{}
		d.elems[name] = m
	}
	if _, seen := m[k]; seen {
		return
	}
	if !ok {
		m[k] = nil
		return
	}
	m[k] = &elem{key: e.key, value: e.value}
}

func (d *delta) chain(s *state, name string) {
	if d == nil {
		return
	}
	if _, seen := d.chains[name]; !seen {
		d.chains[name] = s.chains[name]
	}
}

func (d *delta) set(s *state, name string) {
	if d == nil {
		return
	}
	if _, seen := d.sets[name]; !seen {
		d.sets[name] = s.sets[name]
	}
}

func (d *delta) mapDef(s *state, name string) {
	if d == nil {
		return
	}
	if _, seen := d.maps[name]; !seen {
		d.maps[name] = s.maps[name]
	}
}

// before is the objects (chains, sets, maps; no elements) s had before
// the update: what a full transaction needs to know of the table.
func (d *delta) before(s *state) *state {
	h := &state{chains: maps.Clone(s.chains), sets: maps.Clone(s.sets), maps: maps.Clone(s.maps)}
	restore(h.chains, d.chains)
	restore(h.sets, d.sets)
	restore(h.maps, d.maps)
	return h
}

func restore[V any](now map[string]*V, was map[string]*V) {
	for name, v := range was {
		if v == nil {
			delete(now, name)
		} else {
			now[name] = v
		}
	}
}

// hadMap is the map name as it was before the update.
func (d *delta) hadMap(s *state, name string) *knftables.Map {
	if m, ok := d.maps[name]; ok {
		return m
	}
	return s.maps[name]
}
