package iptables

import (
	"bytes"
	"strings"

	"github.com/nodeagent/nodeagent/proxy"
)

var _ proxy.RuleCounter = (*Proxier)(nil)

// ruleCounts are kube-proxy's rule counts, per table: the rules of the
// chains this mode owns, and those the last sync wrote.
type ruleCounts struct {
	total, last map[string]int
}

// RuleCounts implements proxy.RuleCounter. Like Sync, it must not run
// concurrently with Sync.
func (p *Proxier) RuleCounts() (total, lastSync map[string]int) {
	return copyCounts(p.counts.total), copyCounts(p.counts.last)
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// countRules counts the rules ("-A" lines) of every chain of rs, per table.
func countRules(rs ruleSet) map[string]int {
	out := map[string]int{}
	for _, table := range tables {
		n := 0
		for _, txt := range rs[table] {
			n += strings.Count(txt, "\n")
		}
		out[table] = n
	}
	return out
}

// countWritten counts the rules ("-A" lines) of a restore input, per table.
func countWritten(input []byte) map[string]int {
	out := map[string]int{}
	for _, table := range tables {
		out[table] = 0
	}
	table := ""
	for line := range bytes.Lines(input) {
		switch {
		case bytes.HasPrefix(line, []byte("*")):
			table = string(bytes.TrimSpace(line[1:]))
		case bytes.HasPrefix(line, []byte("-A ")):
			out[table]++
		}
	}
	return out
}
