package iptables

import (
	"context"
	"fmt"
	"slices"
)

// ListChains implements Runner.
func (f *Fake) ListChains(_ context.Context, table string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tables[table]
	if !ok {
		return nil, fmt.Errorf("iptables: table %q does not exist", table)
	}
	return t.chainOrder(table), nil
}

// ListRules implements Runner.
func (f *Fake) ListRules(_ context.Context, table, chain string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tables[table]
	if !ok || t.chains[chain] == nil {
		return nil, fmt.Errorf("iptables -t %s -S %s: no chain/target/match by that name", table, chain)
	}
	var out []string
	for _, r := range t.chains[chain].rules {
		out = append(out, r.text)
	}
	return out, nil
}

// DeleteChains implements Runner: all or nothing, refused (as by the
// kernel) when a chain is missing, built in, or still referenced by a
// rule outside the chains.
func (f *Fake) DeleteChains(_ context.Context, table string, chains []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes = append(f.deletes, slices.Clone(chains))
	t, ok := f.tables[table]
	if !ok {
		return fmt.Errorf("nft: table %q does not exist", table)
	}
	c := t.clone()
	for _, name := range chains {
		if err := c.flush([]string{name}); err != nil {
			return fmt.Errorf("nft: flush chain %s: %w", name, err)
		}
	}
	for _, name := range chains {
		if err := c.deleteChain(name); err != nil {
			return fmt.Errorf("nft: delete chain %s: %w", name, err)
		}
	}
	f.tables[table] = c
	return nil
}

// Deletes are the chain lists DeleteChains received, oldest first.
func (f *Fake) Deletes() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.deletes)
}
