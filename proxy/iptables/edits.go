package iptables

import (
	"bytes"
	"slices"
	"strings"
)

// maxEdits is the most rules a partial sync deletes and inserts in one
// of the long shared chains before it writes the chain whole instead.
const maxEdits = 64

// editable are the shared chains with a rule or two per service port,
// whose rules do not depend on their order, but for the fixed rules every
// sync writes (KUBE-SERVICES's jump to KUBE-NODEPORTS, which must stay
// last). At 10,000 Services, writing KUBE-SERVICES whole for one new
// Service cost 0.85 s of iptables-restore; inserting its rule costs what
// any restore costs.
var editable = map[string]map[string]bool{
	tableNAT:    {chainServices: true, chainNodePorts: true},
	tableFilter: {chainServices: true, chainExternalServices: true},
}

// chainEdit turns a chain's rules into the wanted ones in place: the
// rules to delete (-D) and those to insert at the top (-I CHAIN 1), as
// restore lines without the command and chain.
type chainEdit struct {
	chain        string
	del, prepend []string
}

func (e chainEdit) write(buf *bytes.Buffer) {
	for _, r := range e.del {
		buf.WriteString("-D " + e.chain + r + "\n")
	}
	for _, r := range e.prepend {
		buf.WriteString("-I " + e.chain + " 1" + r + "\n")
	}
}

// editInPlace takes out of write the editable chains of table that differ
// from their applied rules by at most maxEdits rules, and returns them as
// edits. The applied text is what the last sync wanted, in its order; the
// kernel may hold the same rules in another order after earlier edits,
// which these chains do not mind.
func editInPlace(table string, applied, want map[string]string, write []string) ([]string, []chainEdit) {
	var edits []chainEdit
	keep := write[:0:0]
	for _, c := range write {
		old, ok := applied[c]
		if !editable[table][c] || !ok {
			keep = append(keep, c)
			continue
		}
		del, add := lineDiff(old, want[c])
		if len(del)+len(add) > maxEdits {
			keep = append(keep, c)
			continue
		}
		e := chainEdit{chain: c}
		prefix := "-A " + c
		for _, l := range del {
			e.del = append(e.del, strings.TrimPrefix(l, prefix))
		}
		for _, l := range add {
			e.prepend = append(e.prepend, strings.TrimPrefix(l, prefix))
		}
		edits = append(edits, e)
	}
	return keep, edits
}

// lineDiff returns the lines only old has and those only want has (as
// multisets), each sorted.
func lineDiff(old, want string) (del, add []string) {
	count := map[string]int{}
	for l := range strings.Lines(old) {
		count[strings.TrimSuffix(l, "\n")]++
	}
	for l := range strings.Lines(want) {
		l = strings.TrimSuffix(l, "\n")
		if count[l] > 0 {
			count[l]--
			continue
		}
		add = append(add, l)
	}
	for l, n := range count {
		for range n {
			del = append(del, l)
		}
	}
	slices.Sort(del)
	slices.Sort(add)
	return del, add
}
