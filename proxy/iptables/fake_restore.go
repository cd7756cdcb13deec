package iptables

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// standardTargets are the targets that are not chains, with the one table
// each is limited to ("" for any). DROP in nat is refused, as legacy
// iptables does.
var standardTargets = map[string]string{
	"ACCEPT": "", "RETURN": "", "MARK": "", "LOG": "", "CONNMARK": "",
	"DROP": "!nat", "REJECT": "filter",
	"DNAT": "nat", "SNAT": "nat", "MASQUERADE": "nat", "REDIRECT": "nat",
}

// apply runs a restore input; each table's block takes effect at its
// COMMIT, and a failing line leaves that block's table unchanged.
func (f *Fake) apply(input string) error {
	var cur *fakeTable
	var table string
	for n, line := range strings.Split(input, "\n") {
		line = strings.TrimSpace(line)
		var err error
		switch {
		case line == "" || line[0] == '#':
			continue
		case line[0] == '*':
			if cur != nil {
				err = errors.New("table " + table + " not committed")
				break
			}
			table = line[1:]
			t, ok := f.tables[table]
			if !ok {
				err = fmt.Errorf("table %q does not exist", table)
				break
			}
			cur = t.clone()
		case cur == nil:
			err = errors.New("no table open")
		case line == "COMMIT":
			f.tables[table], cur = cur, nil
		case line[0] == ':':
			err = cur.declare(line[1:])
		default:
			err = cur.command(table, line)
		}
		if err != nil {
			return fmt.Errorf("iptables-restore: line %d failed: %q: %w", n+1, line, err)
		}
	}
	if cur != nil {
		return fmt.Errorf("iptables-restore: COMMIT expected for table %s", table)
	}
	return nil
}

// declare is `:CHAIN POLICY [p:b]`: with --noflush it creates a user chain
// or flushes an existing one (ignoring a policy, as iptables-nft does);
// for a built-in chain it sets the policy.
func (t *fakeTable) declare(decl string) error {
	words := strings.Fields(decl)
	if len(words) < 2 {
		return errors.New("bad chain declaration")
	}
	name, policy := words[0], words[1]
	if c, ok := t.chains[name]; ok && c.builtin {
		if policy != "-" {
			c.policy = policy
		}
		return nil
	}
	if len(name) > 28 {
		return fmt.Errorf("chain name %q longer than 28", name)
	}
	if c, ok := t.chains[name]; ok {
		t.drop(c.rules)
	}
	t.chains[name] = &fakeChain{}
	return nil
}

// command runs one -A, -I, -D, -F, -X or -N line.
func (t *fakeTable) command(table, line string) error {
	words, err := splitLine(line)
	if err != nil {
		return err
	}
	if len(words) < 2 && words[0] != "-F" {
		return errors.New("missing chain")
	}
	op, args := words[0], words[1:]
	switch op {
	case "-A", "--append":
		return t.insert(table, args[0], args[1:], -1)
	case "-I", "--insert":
		pos := 0
		if len(args) > 1 {
			if n, err := strconv.Atoi(args[1]); err == nil {
				pos, args = n-1, append([]string{args[0]}, args[2:]...)
			}
		}
		return t.insert(table, args[0], args[1:], pos)
	case "-D", "--delete":
		return t.delete(table, args[0], args[1:])
	case "-F", "--flush":
		return t.flush(args)
	case "-X", "--delete-chain":
		return t.deleteChain(args[0])
	case "-N", "--new-chain":
		if t.chains[args[0]] != nil {
			return errors.New("chain already exists")
		}
		return t.declare(args[0] + " -")
	}
	return fmt.Errorf("unknown command %q", op)
}

// newRule checks a rule for chain: the chain and the target must exist,
// and a standard target must fit the table.
func (t *fakeTable) newRule(table, chain string, words []string) (fakeRule, error) {
	if t.chains[chain] == nil {
		return fakeRule{}, fmt.Errorf("chain %q does not exist", chain)
	}
	target, isGoto := ruleTarget(words)
	if only, ok := standardTargets[target]; ok {
		if only != "" && only != table && !(only[0] == '!' && only[1:] != table) {
			return fakeRule{}, fmt.Errorf("target %s is not allowed in table %s", target, table)
		}
	} else if target != "" && t.chains[target] == nil {
		return fakeRule{}, fmt.Errorf("couldn't load target %q: no such chain", target)
	}
	return fakeRule{words: words, text: joinWords(words), target: target, isGoto: isGoto}, nil
}

func (t *fakeTable) insert(table, chain string, words []string, pos int) error {
	r, err := t.newRule(table, chain, words)
	if err != nil {
		return err
	}
	c := t.chains[chain]
	t.refs[r.target]++
	if pos < 0 {
		c.rules = append(c.rules, r)
		return nil
	}
	if pos > len(c.rules) {
		t.refs[r.target]--
		return errors.New("index of insertion too big")
	}
	c.rules = slices.Insert(c.rules, pos, r)
	return nil
}

// delete removes a rule given by its spec or its 1-based number.
func (t *fakeTable) delete(table, chain string, words []string) error {
	c := t.chains[chain]
	if c == nil {
		return fmt.Errorf("chain %q does not exist", chain)
	}
	if len(words) == 1 {
		if n, err := strconv.Atoi(words[0]); err == nil {
			if n < 1 || n > len(c.rules) {
				return errors.New("index of deletion too big")
			}
			t.drop(c.rules[n-1 : n])
			c.rules = slices.Delete(c.rules, n-1, n)
			return nil
		}
	}
	text := joinWords(words)
	i := slices.IndexFunc(c.rules, func(r fakeRule) bool { return r.text == text })
	if i < 0 {
		return errors.New("bad rule (does a matching rule exist in that chain?)")
	}
	t.drop(c.rules[i : i+1])
	c.rules = slices.Delete(c.rules, i, i+1)
	return nil
}

func (t *fakeTable) flush(args []string) error {
	if len(args) == 0 {
		for _, c := range t.chains {
			t.drop(c.rules)
			c.rules = nil
		}
		return nil
	}
	c := t.chains[args[0]]
	if c == nil {
		return fmt.Errorf("chain %q does not exist", args[0])
	}
	t.drop(c.rules)
	c.rules = nil
	return nil
}

// deleteChain is -X: the chain must be a user chain, empty and unreferenced.
func (t *fakeTable) deleteChain(name string) error {
	c := t.chains[name]
	switch {
	case c == nil:
		return fmt.Errorf("chain %q does not exist", name)
	case c.builtin:
		return fmt.Errorf("cannot delete built-in chain %q", name)
	case len(c.rules) > 0:
		return fmt.Errorf("chain %q is not empty", name)
	case t.refs[name] > 0:
		return fmt.Errorf("chain %q is referenced by %d rules (too many links)", name, t.refs[name])
	}
	delete(t.chains, name)
	return nil
}
