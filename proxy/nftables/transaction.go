package nftables

import (
	"slices"
	"strings"

	"sigs.k8s.io/knftables"
)

func addRules(tx *knftables.Transaction, c *chain) {
	for _, r := range c.rules {
		tx.Add(&knftables.Rule{Chain: c.def.Name, Rule: r})
	}
}

// partialTransaction sends only what an update changed (d, against s
// as it is now). It returns false, having added nothing, when a set, map
// or base chain changed its definition, or a rewritten chain looks up a
// typeof map already in the table: that needs a full transaction. The
// order keeps every reference valid: new objects first, then rules, then
// elements (deletes before adds, so a changed map value is replaced),
// then the chains and the sets and maps nothing refers to any more. Its
// cost follows the change, not the table: nothing untouched is looked at.
func partialTransaction(tx *knftables.Transaction, s *state, d *delta) bool {
	if !d.compatible(s) || d.looksUpOldTypeofMap(s) {
		return false
	}
	addNewObjects(tx, s, d)
	for _, name := range sortedKeys(d.chains) {
		old, c := d.chains[name], s.chains[name]
		switch {
		case c == nil:
			if old != nil {
				tx.Flush(&knftables.Chain{Name: name})
			}
		case old == nil:
			addRules(tx, c)
		case !sameChain(old, c):
			tx.Flush(&knftables.Chain{Name: name})
			addRules(tx, c)
		}
	}
	diffElements(tx, s, d)
	deleteOldObjects(tx, s, d)
	return true
}

// compatible says whether every object the update replaced kept its
// definition (rules aside).
func (d *delta) compatible(s *state) bool {
	for name, old := range d.chains {
		if c := s.chains[name]; old != nil && c != nil && !sameChain(&chain{def: old.def}, &chain{def: c.def}) {
			return false
		}
	}
	for name, old := range d.sets {
		if set := s.sets[name]; old != nil && set != nil && !sameSet(old, set) {
			return false
		}
	}
	for name, old := range d.maps {
		if m := s.maps[name]; old != nil && m != nil && !sameMap(old, m) {
			return false
		}
	}
	return true
}

// looksUpOldTypeofMap says whether a chain that the partial transaction
// would (re)write has a rule that looks up a typeof map already in the
// table, which nft 1.0.6 refuses (see keepMap): the full transaction
// makes such maps anew.
func (d *delta) looksUpOldTypeofMap(s *state) bool {
	for name, old := range d.chains {
		c := s.chains[name]
		if c == nil || (old != nil && sameChain(old, c)) {
			continue
		}
		for _, r := range c.rules {
			for _, w := range strings.Fields(r) {
				if !strings.HasPrefix(w, "@") {
					continue
				}
				if m := d.hadMap(s, strings.TrimPrefix(w, "@")); m != nil && m.TypeOf != "" {
					return true
				}
			}
		}
	}
	return false
}

func addNewObjects(tx *knftables.Transaction, s *state, d *delta) {
	for _, name := range sortedKeys(d.chains) {
		if c := s.chains[name]; d.chains[name] == nil && c != nil {
			def := c.def
			tx.Add(&def)
		}
	}
	for _, name := range sortedKeys(d.sets) {
		if set := s.sets[name]; d.sets[name] == nil && set != nil {
			tx.Add(set)
		}
	}
	for _, name := range sortedKeys(d.maps) {
		if m := s.maps[name]; d.maps[name] == nil && m != nil {
			tx.Add(m)
		}
	}
}

// diffElements deletes the touched elements that went away or changed
// value and adds the new and changed ones. Elements of a set or map that
// goes away altogether go with it.
func diffElements(tx *knftables.Transaction, s *state, d *delta) {
	var adds []*knftables.Element
	for _, name := range sortedKeys(d.elems) {
		es, ok := s.elems[name]
		if !ok {
			continue
		}
		was := d.elems[name]
		// Sorted for a stable transaction.
		for _, k := range sortedKeys(was) {
			old := was[k]
			e, ok := es[k]
			if old != nil && (!ok || !sameValue(*old, e)) {
				tx.Delete(s.element(name, *old))
			}
			if ok && (old == nil || !sameValue(*old, e)) {
				adds = append(adds, s.element(name, e))
			}
		}
	}
	for _, e := range adds {
		tx.Add(e)
	}
}

func sameValue(a, b elem) bool {
	return slices.Equal(a.value, b.value)
}

func deleteOldObjects(tx *knftables.Transaction, s *state, d *delta) {
	for _, name := range sortedKeys(d.chains) {
		if _, ok := s.chains[name]; !ok && d.chains[name] != nil {
			tx.Delete(&knftables.Chain{Name: name})
		}
	}
	for _, name := range sortedKeys(d.sets) {
		if _, ok := s.sets[name]; !ok && d.sets[name] != nil {
			tx.Delete(&knftables.Set{Name: name})
		}
	}
	for _, name := range sortedKeys(d.maps) {
		if _, ok := s.maps[name]; !ok && d.maps[name] != nil {
			tx.Delete(&knftables.Map{Name: name})
		}
	}
}
