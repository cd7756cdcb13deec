package iptables

import (
	"context"
	"fmt"
	"slices"
)

// tableDiff lists, sorted, the chains to write and the chains to delete.
func tableDiff(applied, want map[string]string, maybe map[string]bool, full bool) (write, del []string) {
	for c, txt := range want {
		if old, ok := applied[c]; full || !ok || old != txt {
			write = append(write, c)
		}
	}
	for c := range applied {
		if _, ok := want[c]; !ok {
			del = append(del, c)
		}
	}
	if full {
		for c := range maybe {
			_, wanted := want[c]
			_, done := applied[c]
			if !wanted && !done {
				del = append(del, c)
			}
		}
	}
	slices.Sort(write)
	slices.Sort(del)
	return write, del
}

// jump is a rule in a built-in chain that leads into ours.
type jump struct {
	table, chain string
	rule         []string
}

// jumps, inserted at the top in this order (so the last ends up first).
var jumps = []jump{
	{tableNAT, "PREROUTING", []string{"-m", "comment", "--comment", "kubernetes service portals", "-j", chainServices}},
	{tableNAT, "OUTPUT", []string{"-m", "comment", "--comment", "kubernetes service portals", "-j", chainServices}},
	{tableNAT, "POSTROUTING", []string{"-m", "comment", "--comment", "kubernetes postrouting rules", "-j", chainPostrouting}},
	{tableFilter, "FORWARD", []string{"-m", "comment", "--comment", "kubernetes forwarding rules", "-j", chainForward}},
	{tableFilter, "INPUT", newOnly("kubernetes externally-visible service portals", chainExternalServices)},
	{tableFilter, "FORWARD", newOnly("kubernetes externally-visible service portals", chainExternalServices)},
	{tableFilter, "FORWARD", newOnly("kubernetes service portals", chainServices)},
	{tableFilter, "OUTPUT", newOnly("kubernetes service portals", chainServices)},
}

func newOnly(comment, target string) []string {
	return []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", comment, "-j", target}
}

// ensureJumps puts the jumps from the built-in chains in place (after the
// restore that made their targets).
func (p *Proxier) ensureJumps(ctx context.Context) error {
	p.jumpsOK = false
	for _, j := range jumps {
		if _, err := p.run.EnsureRule(ctx, j.table, j.chain, j.rule...); err != nil {
			return fmt.Errorf("jump from %s %s to %s: %w", j.table, j.chain, j.rule[len(j.rule)-1], err)
		}
	}
	p.jumpsOK = true
	return nil
}
