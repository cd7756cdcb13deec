package nftables

import (
	"sort"
	"strings"

	"sigs.k8s.io/knftables"
)

func addRules(tx *knftables.Transaction, c *chain) {
	for _, r := range c.rules {
		tx.Add(&knftables.Rule{Chain: c.def.Name, Rule: r})
	}
}

// partialTransaction sends only what differs between have (applied) and
// want. It returns false, having added nothing, when a set, map or base
// chain changed its definition: that needs a full transaction. The order
// keeps every reference valid: new objects first, then rules, then
// elements (deletes before adds, so a changed map value is replaced),
// then the chains and the sets and maps nothing refers to any more.
func partialTransaction(tx *knftables.Transaction, have, want *state) bool {
	if !compatible(have, want) || looksUpOldTypeofMap(have, want) {
		return false
	}
	addNewObjects(tx, have, want)
	for _, name := range sortedKeys(want.chains) {
		old, ok := have.chains[name]
		if ok && sameChain(old, want.chains[name]) {
			continue
		}
		if ok {
			tx.Flush(&knftables.Chain{Name: name})
		}
		addRules(tx, want.chains[name])
	}
	for _, name := range sortedKeys(have.chains) {
		if _, ok := want.chains[name]; !ok {
			tx.Flush(&knftables.Chain{Name: name})
		}
	}
	diffElements(tx, have, want)
	deleteOldObjects(tx, have, want)
	return true
}

// compatible says whether every object in both states has the same
// definition (rules aside).
func compatible(have, want *state) bool {
	for name, c := range want.chains {
		if old, ok := have.chains[name]; ok && !sameChain(&chain{def: old.def}, &chain{def: c.def}) {
			return false
		}
	}
	for name, s := range want.sets {
		if old, ok := have.sets[name]; ok && !sameSet(old, s) {
			return false
		}
		if _, ok := have.maps[name]; ok {
			return false
		}
	}
	for name, m := range want.maps {
		if old, ok := have.maps[name]; ok && !sameMap(old, m) {
			return false
		}
		if _, ok := have.sets[name]; ok {
			return false
		}
	}
	return true
}

// looksUpOldTypeofMap says whether a chain that the partial transaction
// would (re)write has a rule that looks up a typeof map already in the
// table, which nft 1.0.6 refuses (see keepMap): the full transaction
// makes such maps anew.
func looksUpOldTypeofMap(have, want *state) bool {
	for name, c := range want.chains {
		if old, ok := have.chains[name]; ok && sameChain(old, c) {
			continue
		}
		for _, r := range c.rules {
			for _, w := range strings.Fields(r) {
				if m, ok := have.maps[strings.TrimPrefix(w, "@")]; ok && strings.HasPrefix(w, "@") && m.TypeOf != "" {
					return true
				}
			}
		}
	}
	return false
}

func addNewObjects(tx *knftables.Transaction, have, want *state) {
	for _, name := range sortedKeys(want.chains) {
		if _, ok := have.chains[name]; !ok {
			def := want.chains[name].def
			tx.Add(&def)
		}
	}
	for _, name := range sortedKeys(want.sets) {
		if _, ok := have.sets[name]; !ok {
			tx.Add(want.sets[name])
		}
	}
	for _, name := range sortedKeys(want.maps) {
		if _, ok := have.maps[name]; !ok {
			tx.Add(want.maps[name])
		}
	}
}

// diffElements deletes the elements that went away or changed value and
// adds the new and changed ones. Elements of a set or map that goes away
// altogether go with it.
func diffElements(tx *knftables.Transaction, have, want *state) {
	var adds []*knftables.Element
	for _, name := range sortedKeys(want.elems) {
		oldEs, newEs := have.elems[name], want.elems[name]
		var gone, added []string
		for k, e := range oldEs {
			if n, ok := newEs[k]; !ok || !sameValue(e, n) {
				gone = append(gone, k)
			}
		}
		for k, e := range newEs {
			if o, ok := oldEs[k]; !ok || !sameValue(e, o) {
				added = append(added, k)
			}
		}
		// Sorted for a stable transaction; only the changes, not the
		// whole map, so a small change stays cheap at 10k services.
		sort.Strings(gone)
		sort.Strings(added)
		for _, k := range gone {
			tx.Delete(have.element(name, oldEs[k]))
		}
		for _, k := range added {
			adds = append(adds, want.element(name, newEs[k]))
		}
	}
	for _, e := range adds {
		tx.Add(e)
	}
}

func sameValue(a, b elem) bool {
	if len(a.value) != len(b.value) {
		return false
	}
	for i := range a.value {
		if a.value[i] != b.value[i] {
			return false
		}
	}
	return true
}

func deleteOldObjects(tx *knftables.Transaction, have, want *state) {
	for _, name := range sortedKeys(have.chains) {
		if _, ok := want.chains[name]; !ok {
			tx.Delete(&knftables.Chain{Name: name})
		}
	}
	for _, name := range sortedKeys(have.sets) {
		if _, ok := want.sets[name]; !ok {
			tx.Delete(&knftables.Set{Name: name})
		}
	}
	for _, name := range sortedKeys(have.maps) {
		if _, ok := want.maps[name]; !ok {
			tx.Delete(&knftables.Map{Name: name})
		}
	}
}
