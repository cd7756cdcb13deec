package iptables

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// defaultBatchChains is how many chains one iptables-restore of a large
// sync declares at most. iptables-nft looks jump targets up in lists, so
// one restore's cost grows with the square of the chains it makes: here,
// 40,000 chains (10,000 Services) took 22 s in one input and 2.4 s in 20
// inputs of 2,000. The proxy bench's full sync at 10,000 Services took
// 26 s in one input, 6.8 s in batches of 4,000 chains, 5.0 s of 2,000 and
// 4.7 s of 1,000.
const defaultBatchChains = 1000

// restoreInputs are the iptables-restore inputs that turn applied into
// want. Per table: a declaration (create or flush) of every chain to write
// or delete, then the rules of the written chains, then the edits of the
// long shared chains (edits.go), then -X of the deleted ones, so that no
// deleted chain is still referenced. full writes every wanted chain and
// deletes the maybe-present ones too. That is one input, unless a table
// has more than max chains to write or delete: then the chains are
// written in batches (writeBatches says in what order), the edits after
// them, and the chains to delete last, referrers first. Each input is
// atomic, and every state between two of them is consistent: a chain is
// rewritten whole in one input, and jumps only to chains that exist. A
// failure part way leaves the earlier inputs applied; the caller then
// takes the kernel's state as unknown. It returns how many chains the
// inputs touch (0: nothing to send).
func restoreInputs(applied, want ruleSet, maybe map[string]map[string]bool, full bool, max int) ([][]byte, int) {
	if max <= 0 {
		max = defaultBatchChains
	}
	type plan struct {
		write, del []string
		edits      []chainEdit
	}
	plans := map[string]plan{}
	touched, large := 0, false
	for _, table := range tables {
		var p plan
		p.write, p.del = tableDiff(applied[table], want[table], maybe[table], full || applied == nil)
		if !full && applied != nil {
			p.write, p.edits = editInPlace(table, applied[table], want[table], p.write)
		}
		plans[table] = p
		touched += len(p.write) + len(p.del) + len(p.edits)
		large = large || len(p.write)+len(p.del) > max
	}
	if touched == 0 {
		return nil, 0
	}
	if !large {
		var buf bytes.Buffer
		for _, table := range tables {
			if p := plans[table]; len(p.write)+len(p.del)+len(p.edits) > 0 {
				buf.Write(tableInput(table, want[table], p.write, p.del, p.edits))
			}
		}
		return [][]byte{buf.Bytes()}, touched
	}
	var inputs [][]byte
	for _, table := range tables {
		p := plans[table]
		for _, batch := range writeBatches(want[table], p.write, max) {
			inputs = append(inputs, tableInput(table, want[table], batch, nil, nil))
		}
		if len(p.edits) > 0 {
			inputs = append(inputs, tableInput(table, want[table], nil, nil, p.edits))
		}
		// Deleted chains go referrers first (the old service chains before
		// the old endpoint chains they jumped to).
		gone := levels(applied[table], p.del)
		for l := len(gone) - 1; l >= 0; l-- {
			for chunk := range slices.Chunk(gone[l], max) {
				inputs = append(inputs, tableInput(table, want[table], nil, chunk, nil))
			}
		}
	}
	return inputs, touched
}

// writeBatches cuts the chains to write into batches of at most max
// (more only for one service port with more chains than that), in an
// order where every jump finds its target: first the shared chains that
// jump to no service port's chain (KUBE-MARK-MASQ), then the service
// ports' chains, each port's together in one batch (its KUBE-SVC, KUBE-EXT
// and KUBE-SVL chains and the KUBE-SEP chains they jump to: iptables-nft
// finds a jump target declared in the same input faster than one already
// in the kernel), then the shared chains that jump to them
// (KUBE-SERVICES, KUBE-NODEPORTS).
func writeBatches(chains map[string]string, write []string, max int) [][]string {
	var before, after, ports []string
	for _, c := range write {
		switch {
		case perServicePort(c):
			ports = append(ports, c)
		case slices.ContainsFunc(jumpTargets(chains[c]), perServicePort):
			after = append(after, c)
		default:
			before = append(before, c)
		}
	}
	var out [][]string
	for _, level := range levels(chains, before) {
		out = slices.AppendSeq(out, slices.Chunk(level, max))
	}
	var batch []string
	for _, group := range portGroups(chains, ports) {
		if len(batch) > 0 && len(batch)+len(group) > max {
			out = append(out, batch)
			batch = nil
		}
		batch = append(batch, group...)
	}
	if len(batch) > 0 {
		out = append(out, batch)
	}
	for _, level := range levels(chains, after) {
		out = slices.AppendSeq(out, slices.Chunk(level, max))
	}
	return out
}

// perServicePort says whether chain is one service port's (or one of its
// endpoints').
func perServicePort(chain string) bool {
	for _, p := range [...]string{prefixSvc, prefixExt, prefixSvl, prefixSep} {
		if strings.HasPrefix(chain, p) {
			return true
		}
	}
	return false
}

// portGroups groups the service port chains to write that jump to one
// another (one service port's), each group sorted, the groups in the
// order of their first chain.
func portGroups(chains map[string]string, ports []string) [][]string {
	parent := make(map[string]string, len(ports))
	for _, c := range ports {
		parent[c] = c
	}
	root := func(c string) string {
		for parent[c] != c {
			parent[c] = parent[parent[c]]
			c = parent[c]
		}
		return c
	}
	for _, c := range ports {
		for _, t := range jumpTargets(chains[c]) {
			if _, ok := parent[t]; ok {
				parent[root(t)] = root(c)
			}
		}
	}
	byRoot := map[string][]string{}
	for _, c := range ports {
		r := root(c)
		byRoot[r] = append(byRoot[r], c)
	}
	out := make([][]string, 0, len(byRoot))
	for _, g := range byRoot {
		slices.Sort(g)
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// tableInput declares write and del, writes the rules of write, makes the
// edits and deletes del, in one restore input of table.
func tableInput(table string, chains map[string]string, write, del []string, edits []chainEdit) []byte {
	var buf bytes.Buffer
	size := 64 * (len(write) + len(del))
	for _, c := range write {
		size += len(chains[c])
	}
	buf.Grow(size)
	buf.WriteString("*" + table + "\n")
	for _, list := range [][]string{write, del} {
		for _, c := range list {
			fmt.Fprintf(&buf, ":%s - [0:0]\n", c)
		}
	}
	for _, c := range write {
		buf.WriteString(chains[c])
	}
	for _, e := range edits {
		e.write(&buf)
	}
	for _, c := range del {
		fmt.Fprintf(&buf, "-X %s\n", c)
	}
	buf.WriteString("COMMIT\n")
	return buf.Bytes()
}

// levels orders the chains to write so that each comes after the chains
// it jumps to that are written too: level 0 jumps to none of them, level
// n+1 to some of level n at most. Each level is sorted.
func levels(chains map[string]string, write []string) [][]string {
	writing := make(map[string]bool, len(write))
	for _, c := range write {
		writing[c] = true
	}
	level := make(map[string]int, len(write))
	var of func(c string, depth int) int
	of = func(c string, depth int) int {
		if l, ok := level[c]; ok {
			return l
		}
		l := 0
		// Our chains form no loop (the kernel refuses one); depth only
		// guards against a rule set that would.
		if depth < 64 {
			for _, t := range jumpTargets(chains[c]) {
				if writing[t] && t != c {
					l = max(l, of(t, depth+1)+1)
				}
			}
		}
		level[c] = l
		return l
	}
	var out [][]string
	for _, c := range write {
		l := of(c, 0)
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], c)
	}
	for _, l := range out {
		slices.Sort(l)
	}
	return out
}

// jumpTargets lists the chains the rules jump or go to (-j, -g).
func jumpTargets(rules string) []string {
	var out []string
	for _, flag := range []string{" -j ", " -g "} {
		for rest := rules; ; {
			i := strings.Index(rest, flag)
			if i < 0 {
				break
			}
			rest = rest[i+len(flag):]
			end := strings.IndexAny(rest, " \n")
			if end < 0 {
				end = len(rest)
			}
			out = append(out, rest[:end])
		}
	}
	return out
}
