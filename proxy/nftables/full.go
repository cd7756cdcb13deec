package nftables

import (
	"slices"

	"sigs.k8s.io/knftables"
)

// fullTransaction rewrites everything the backend owns, over have (the
// applied state, or only the names listed from the kernel), but keeps the
// affinity sets and what the packet path put into them:
//
//  1. add the table (someone may have deleted it);
//  2. flush every chain have holds, and every static set and map that
//     stays (after an add, so that one someone deleted comes back);
//  3. delete the maps and sets that go or changed their definition, then
//     the chains (a vmap element may name a chain, so maps go first);
//  4. add every chain, set and map (a no-op for those already there);
//  5. add the rules and the elements of the static sets and maps.
//
// After step 2 no rule and no element refers to anything, so no delete in
// step 3 is refused for a reference. A dynamic set is never flushed: a
// kept one is only added in step 4, which leaves its elements alone.
func fullTransaction(tx *knftables.Transaction, have, want *state) {
	fullStructure(tx, have, want)
	addElements(tx, want)
}

// fullStructure is fullTransaction but the elements.
func fullStructure(tx *knftables.Transaction, have, want *state) {
	tx.Add(&knftables.Table{})
	flushOld(tx, have, want)
	deleteGone(tx, have, want)
	for _, name := range sortedKeys(want.chains) {
		def := want.chains[name].def
		tx.Add(&def)
	}
	for _, name := range sortedKeys(want.sets) {
		tx.Add(want.sets[name])
	}
	for _, name := range sortedKeys(want.maps) {
		tx.Add(want.maps[name])
	}
	for _, name := range sortedKeys(want.chains) {
		addRules(tx, want.chains[name])
	}
}

// freshHead makes the table, its chains, sets and maps, and the rules.
func freshHead(nft knftables.Interface, want *state) *knftables.Transaction {
	head := nft.NewTransaction()
	fullStructure(head, newState(), want)
	return head
}

// freshParts add want's elements, in fullTransaction's order cut into n
// runs of about one size. Each only adds elements to sets and maps that
// freshHead made, so they may run in any order, or at once.
func freshParts(nft knftables.Interface, want *state, n int) []*knftables.Transaction {
	size := (want.numElements() + n - 1) / n
	var parts []*knftables.Transaction
	var tx *knftables.Transaction
	for _, name := range sortedKeys(want.elems) {
		es := want.elems[name]
		for _, k := range sortedKeys(es) {
			if tx == nil || tx.NumOperations() == size {
				tx = nft.NewTransaction()
				parts = append(parts, tx)
			}
			tx.Add(want.element(name, es[k]))
		}
	}
	return parts
}

// flushOld empties every chain of have and the static sets and maps that
// stay. A listed object is there; one from the applied state is added
// first with the definition it was made with.
func flushOld(tx *knftables.Transaction, have, want *state) {
	for _, name := range sortedKeys(have.chains) {
		if !have.namesOnly {
			def := have.chains[name].def
			tx.Add(&def)
		}
		tx.Flush(&knftables.Chain{Name: name})
	}
	for _, name := range sortedKeys(have.sets) {
		if keepSet(have, want, name) && !dynamic(want.sets[name]) {
			if !have.namesOnly {
				tx.Add(have.sets[name])
			}
			tx.Flush(&knftables.Set{Name: name})
		}
	}
	for _, name := range sortedKeys(have.maps) {
		if keepMap(have, want, name) {
			if !have.namesOnly {
				tx.Add(have.maps[name])
			}
			tx.Flush(&knftables.Map{Name: name})
		}
	}
}

// deleteGone deletes what want does not keep: objects it lacks, and
// those whose definition changed (step 4 adds them anew).
func deleteGone(tx *knftables.Transaction, have, want *state) {
	for _, name := range sortedKeys(have.maps) {
		if !keepMap(have, want, name) {
			if !have.namesOnly {
				tx.Add(have.maps[name])
			}
			tx.Delete(&knftables.Map{Name: name})
		}
	}
	for _, name := range sortedKeys(have.sets) {
		if !keepSet(have, want, name) {
			if !have.namesOnly {
				tx.Add(have.sets[name])
			}
			tx.Delete(&knftables.Set{Name: name})
		}
	}
	for _, name := range sortedKeys(have.chains) {
		if !keepChain(have, want, name) {
			tx.Delete(&knftables.Chain{Name: name})
		}
	}
}

// keepSet says whether have's set name stays: want has a set of that name
// with the same definition (when only names are known, any definition:
// the kernel updates a changed timeout or size in place and refuses a
// changed type or flags, and then the table is rebuilt).
func keepSet(have, want *state, name string) bool {
	h, w := have.sets[name], want.sets[name]
	return h != nil && w != nil && (have.namesOnly || sameSet(h, w))
}

// keepMap is keepSet for maps, but no typeof map is kept: nft 1.0.6
// cannot add a rule that looks up a typeof map made in an earlier
// transaction ("conflicting protocols specified: ip vs. th", when it
// rebuilds the "th dport" key from the kernel), and a full sync adds all
// the rules again. So the data maps are deleted and made anew; their
// elements are written again anyway, so this costs nothing more.
func keepMap(have, want *state, name string) bool {
	h, w := have.maps[name], want.maps[name]
	return h != nil && w != nil && w.TypeOf == "" && (have.namesOnly || sameMap(h, w))
}

func keepChain(have, want *state, name string) bool {
	h, w := have.chains[name], want.chains[name]
	return h != nil && w != nil && (have.namesOnly || sameChain(&chain{def: h.def}, &chain{def: w.def}))
}

// dynamic says whether the packet path fills the set (affinity): a sync
// never flushes it nor writes its elements.
func dynamic(s *knftables.Set) bool {
	return slices.Contains(s.Flags, knftables.DynamicFlag)
}

func addElements(tx *knftables.Transaction, want *state) {
	for _, name := range sortedKeys(want.elems) {
		es := want.elems[name]
		for _, k := range sortedKeys(es) {
			tx.Add(want.element(name, es[k]))
		}
	}
}

// rebuildTransaction writes the table from nothing: add (so that the
// delete cannot fail), delete, add, then every chain, set and map, the
// rules and the elements. Whatever was in the table goes with the delete,
// affinity entries too: it is the way out when a full transaction failed
// or the table could not be listed.
func rebuildTransaction(tx *knftables.Transaction, want *state) {
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	fullTransaction(tx, newState(), want)
}

// empty says whether s holds no chain, set or map: there was no table,
// or an empty one.
func (s *state) empty() bool {
	return len(s.chains) == 0 && len(s.sets) == 0 && len(s.maps) == 0
}

// listedState is the table as the kernel lists it (ListAll): names only.
func listedState(all map[string][]string) *state {
	s := newState()
	s.namesOnly = true
	for _, name := range all["chain"] {
		s.chains[name] = &chain{def: knftables.Chain{Name: name}}
	}
	for _, name := range all["set"] {
		s.sets[name] = &knftables.Set{Name: name}
	}
	for _, name := range all["map"] {
		s.maps[name] = &knftables.Map{Name: name}
	}
	return s
}
