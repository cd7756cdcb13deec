package iptables

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
)

// Cleanup implements proxy.Backend. It lists each table's chains and the
// rules of the chains that are not ours (ListChains, ListRules: never the
// whole table, which at 10,000 Services takes iptables-save 14 s), deletes
// in one restore every rule of those that jumps into one of ours, then
// flushes and deletes our chains (DeleteChains, per table). Others' rules
// and chains stay. Running it again finds nothing and sends nothing.
func (p *Proxier) Cleanup(ctx context.Context) error {
	var unhook bytes.Buffer
	ours := map[string][]string{}
	for _, table := range tables {
		chains, others, err := p.ourPart(ctx, table)
		if err != nil {
			return fmt.Errorf("iptables cleanup: %w", err)
		}
		ours[table] = chains
		writeUnhook(&unhook, table, others)
	}
	p.applied, p.maybe, p.jumpsOK = nil, map[string]map[string]bool{}, false
	if unhook.Len() > 0 {
		if err := p.run.Restore(ctx, unhook.Bytes()); err != nil {
			return fmt.Errorf("iptables cleanup: %w", err)
		}
	}
	for _, table := range tables {
		if len(ours[table]) == 0 {
			continue
		}
		if err := p.run.DeleteChains(ctx, table, ours[table]); err != nil {
			return fmt.Errorf("iptables cleanup: %w", err)
		}
	}
	return nil
}

// ourPart lists table's chains that are ours, and the rules of the others
// that jump into one of them ("CHAIN SPEC").
func (p *Proxier) ourPart(ctx context.Context, table string) (ours, hooks []string, err error) {
	chains, err := p.run.ListChains(ctx, table)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range chains {
		if owned(c) {
			ours = append(ours, c)
			continue
		}
		rules, err := p.run.ListRules(ctx, table, c)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rules {
			if words, err := splitLine(r); err == nil {
				if target, _ := ruleTarget(words); owned(target) {
					hooks = append(hooks, c+" "+r)
				}
			}
		}
	}
	return ours, hooks, nil
}

// writeUnhook writes the block that deletes hooks, rules of one table.
func writeUnhook(buf *bytes.Buffer, table string, hooks []string) {
	if len(hooks) == 0 {
		return
	}
	buf.WriteString("*" + table + "\n")
	for _, h := range hooks {
		buf.WriteString("-D " + h + "\n")
	}
	buf.WriteString("COMMIT\n")
}

// savedTable is one table of iptables-save output.
type savedTable struct {
	order []string            // chains, as listed
	rules map[string][]string // chain → rule specs (after "-A CHAIN ")
}

// parseSave reads iptables-save output into its tables.
func parseSave(out []byte) map[string]*savedTable {
	tabs := map[string]*savedTable{}
	var cur *savedTable
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "*"):
			cur = &savedTable{rules: map[string][]string{}}
			tabs[line[1:]] = cur
		case cur == nil:
		case strings.HasPrefix(line, ":"):
			if name, _, ok := strings.Cut(line[1:], " "); ok {
				cur.order = append(cur.order, name)
			}
		case strings.HasPrefix(line, "-A "):
			if chain, spec, ok := strings.Cut(line[3:], " "); ok {
				cur.rules[chain] = append(cur.rules[chain], spec)
			}
		}
	}
	return tabs
}
