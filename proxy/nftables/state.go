package nftables

import (
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/proxy"
)

// state is everything the backend owns in its table, as a value: what a
// sync computes from a Snapshot, what the Proxier remembers as applied,
// and what the diff compares.
type state struct {
	chains map[string]*chain
	sets   map[string]*knftables.Set
	maps   map[string]*knftables.Map
	// elems holds the elements of every set and map, by set or map name
	// and then by the element's key text.
	elems map[string]map[string]elem
	// namesOnly: listed from the kernel, so the definitions are not known
	// (and elems is empty).
	namesOnly bool

	// What compute knows beyond the table's content, so that a partial
	// sync can take one service port's part out and put its new one in
	// without computing the rest (update.go): each service port's part,
	// the number of targets using each data map, the owners of the
	// affinity chain names, the node addresses and the affinity namer.
	svcs     map[proxy.ServicePortName]*svcPart
	mapUsers map[string]int
	affOwner map[string]proxy.ServicePortName
	nodeIPs  []string
	affName  func(proxy.ServicePortName) string
	// seq is the tracker's number of the snapshot s was made for (0: not
	// known); the next snapshot's Changed then names the ports to look at.
	seq uint64
	// delta, when set, records what every change replaces (update.go).
	delta *delta
}

// chain is a chain's definition with its rules, in order.
type chain struct {
	def   knftables.Chain
	rules []string
}

// elem is one set or map element: the value is that of the last owner in
// name order (the one a computation in name order writes last); the
// skeleton's elements have no owner.
type elem struct {
	key, value []string
	owners     []owner
}

// owner is a service port that put an element, with the value it put.
type owner struct {
	part  *svcPart
	value []string
}

func newState() *state {
	return &state{chains: map[string]*chain{}, sets: map[string]*knftables.Set{},
		maps: map[string]*knftables.Map{}, elems: map[string]map[string]elem{},
		svcs: map[proxy.ServicePortName]*svcPart{}, mapUsers: map[string]int{},
		affOwner: map[string]proxy.ServicePortName{}, affName: affinityName}
}

// addChain adds a regular chain (or returns the one already there).
func (s *state) addChain(name string) *chain {
	if c, ok := s.chains[name]; ok {
		return c
	}
	c := &chain{def: knftables.Chain{Name: name}}
	s.setChain(c)
	return c
}

// setChain puts c in place of the chain of its name, if any.
func (s *state) setChain(c *chain) {
	s.delta.chain(s, c.def.Name)
	s.chains[c.def.Name] = c
}

func (s *state) deleteChain(name string) {
	s.delta.chain(s, name)
	delete(s.chains, name)
}

// addBaseChain adds a chain attached to a hook.
func (s *state) addBaseChain(name string, typ knftables.BaseChainType, hook knftables.BaseChainHook, prio knftables.BaseChainPriority) *chain {
	c := &chain{def: knftables.Chain{Name: name, Type: &typ, Hook: &hook, Priority: &prio}}
	s.chains[name] = c
	return c
}

func (c *chain) add(rule ...string) { c.rules = append(c.rules, strings.Join(rule, " ")) }

func (s *state) addSet(set *knftables.Set) {
	s.delta.set(s, set.Name)
	s.sets[set.Name] = set
	s.elems[set.Name] = map[string]elem{}
}

func (s *state) deleteSet(name string) {
	s.delta.set(s, name)
	delete(s.sets, name)
	delete(s.elems, name)
}

func (s *state) addMap(m *knftables.Map) {
	s.delta.mapDef(s, m.Name)
	s.maps[m.Name] = m
	s.elems[m.Name] = map[string]elem{}
}

func (s *state) deleteMap(name string) {
	s.delta.mapDef(s, name)
	delete(s.maps, name)
	delete(s.elems, name)
}

// put adds an element of the skeleton (no owner) to the set or map name,
// which must exist.
func (s *state) put(name string, key []string, value ...string) {
	s.elems[name][strings.Join(key, " . ")] = elem{key: key, value: value}
}

// own adds part's element to the set or map name, which must exist. An
// element that other service ports put too (a shared hairpin pair, a
// frontend two ports claim) gets part as one more owner; its value is the
// last owner's in name order.
func (s *state) own(part *svcPart, name string, key []string, value []string) {
	k := strings.Join(key, " . ")
	es := s.elems[name]
	e, ok := es[k]
	s.delta.elem(name, k, e, ok)
	if !ok {
		part.puts = append(part.puts, elemRef{name, k})
		es[k] = elem{key: key, value: value, owners: []owner{{part, value}}}
		return
	}
	i := slices.IndexFunc(e.owners, func(o owner) bool { return o.part == part })
	if i >= 0 {
		e.owners[i].value = value
	} else {
		part.puts = append(part.puts, elemRef{name, k})
		i, _ = slices.BinarySearchFunc(e.owners, part, func(o owner, p *svcPart) int { return compareNames(o.part.name, p.name) })
		e.owners = slices.Insert(e.owners, i, owner{part, value})
	}
	e.value = e.owners[len(e.owners)-1].value
	es[k] = e
}

// disown takes part's claim off an element: the element goes with its
// last owner, else takes the value of the last one left.
func (s *state) disown(part *svcPart, name, k string) {
	es := s.elems[name]
	e, ok := es[k]
	if !ok {
		return
	}
	s.delta.elem(name, k, e, ok)
	e.owners = slices.DeleteFunc(e.owners, func(o owner) bool { return o.part == part })
	if len(e.owners) == 0 {
		delete(es, k)
		return
	}
	e.value = e.owners[len(e.owners)-1].value
	es[k] = e
}

// element is e as a knftables object of set or map name.
func (s *state) element(name string, e elem) *knftables.Element {
	if _, ok := s.maps[name]; ok {
		return &knftables.Element{Map: name, Key: e.key, Value: e.value}
	}
	return &knftables.Element{Set: name, Key: e.key}
}

// numElements counts the elements of every set and map.
func (s *state) numElements() int {
	n := 0
	for _, es := range s.elems {
		n += len(es)
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sameChain(a, b *chain) bool {
	return a.def.Name == b.def.Name && ptrEq(a.def.Type, b.def.Type) && ptrEq(a.def.Hook, b.def.Hook) &&
		ptrEq(a.def.Priority, b.def.Priority) && slices.Equal(a.rules, b.rules)
}

func sameSet(a, b *knftables.Set) bool {
	return a.Type == b.Type && a.TypeOf == b.TypeOf && slices.Equal(a.Flags, b.Flags) &&
		ptrEq(a.Timeout, b.Timeout) && ptrEq(a.Size, b.Size)
}

func sameMap(a, b *knftables.Map) bool {
	return a.Type == b.Type && a.TypeOf == b.TypeOf && slices.Equal(a.Flags, b.Flags)
}

func ptrEq[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
