package iptables

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
)

// Cleanup implements proxy.Backend. It reads iptables-save (off the hot
// path) and, in one restore, deletes every rule of another chain that
// jumps into one of ours, then flushes and deletes our chains. Others'
// rules and chains stay. Running it again finds nothing and sends nothing.
func (p *Proxier) Cleanup(ctx context.Context) error {
	var buf bytes.Buffer
	for _, table := range tables {
		out, err := p.run.Save(ctx, table)
		if err != nil {
			return fmt.Errorf("iptables cleanup: %w", err)
		}
		writeCleanup(&buf, table, parseSave(out)[table])
	}
	p.applied, p.maybe, p.jumpsOK = nil, map[string]map[string]bool{}, false
	if buf.Len() == 0 {
		return nil
	}
	if err := p.run.Restore(ctx, buf.Bytes()); err != nil {
		return fmt.Errorf("iptables cleanup: %w", err)
	}
	return nil
}

// writeCleanup writes the block that removes our part of one saved table.
func writeCleanup(buf *bytes.Buffer, table string, t *savedTable) {
	if t == nil {
		return
	}
	var ours, unhook []string
	for _, c := range t.order {
		if owned(c) {
			ours = append(ours, c)
			continue
		}
		for _, r := range t.rules[c] {
			if words, err := splitLine(r); err == nil {
				if target, _ := ruleTarget(words); owned(target) {
					unhook = append(unhook, "-D "+c+" "+r)
				}
			}
		}
	}
	if len(ours)+len(unhook) == 0 {
		return
	}
	buf.WriteString("*" + table + "\n")
	for _, c := range ours {
		fmt.Fprintf(buf, ":%s - [0:0]\n", c)
	}
	for _, d := range unhook {
		buf.WriteString(d + "\n")
	}
	for _, c := range ours {
		fmt.Fprintf(buf, "-X %s\n", c)
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
