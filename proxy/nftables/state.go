package nftables

import (
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/knftables"
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
}

// chain is a chain's definition with its rules, in order.
type chain struct {
	def   knftables.Chain
	rules []string
}

// elem is one set or map element.
type elem struct {
	key, value []string
}

func newState() *state {
	return &state{chains: map[string]*chain{}, sets: map[string]*knftables.Set{},
		maps: map[string]*knftables.Map{}, elems: map[string]map[string]elem{}}
}

// addChain adds a regular chain (or returns the one already there).
func (s *state) addChain(name string) *chain {
	if c, ok := s.chains[name]; ok {
		return c
	}
	c := &chain{def: knftables.Chain{Name: name}}
	s.chains[name] = c
	return c
}

// addBaseChain adds a chain attached to a hook.
func (s *state) addBaseChain(name string, typ knftables.BaseChainType, hook knftables.BaseChainHook, prio knftables.BaseChainPriority) *chain {
	c := &chain{def: knftables.Chain{Name: name, Type: &typ, Hook: &hook, Priority: &prio}}
	s.chains[name] = c
	return c
}

func (c *chain) add(rule ...string) { c.rules = append(c.rules, strings.Join(rule, " ")) }

func (s *state) addSet(set *knftables.Set) {
	s.sets[set.Name] = set
	s.elems[set.Name] = map[string]elem{}
}

func (s *state) addMap(m *knftables.Map) {
	s.maps[m.Name] = m
	s.elems[m.Name] = map[string]elem{}
}

// put adds an element to the set or map name, which must exist.
func (s *state) put(name string, key []string, value ...string) {
	s.elems[name][strings.Join(key, " . ")] = elem{key: key, value: value}
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
