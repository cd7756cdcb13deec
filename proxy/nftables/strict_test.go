package nftables

import (
	"context"
	"fmt"
	"strings"

	"sigs.k8s.io/knftables"
)

// strictNFT is knftables' Fake with two refusals of the kernel that the
// fake lacks (knftables v0.0.22): deleting a set, map or chain that a rule
// or a verdict-map element still refers to ("Device or resource busy"),
// and adding a set or map that exists with another type or other flags
// ("File exists"; a changed timeout or size the kernel updates in place,
// the fake keeps the old one). It also refuses, as nft 1.0.6 does, a rule
// that looks up a typeof map made in an earlier transaction ("conflicting
// protocols specified: ip vs. th"). It reads the transaction's text in
// order, as the kernel processes the batch.
type strictNFT struct {
	*knftables.Fake
}

func (s strictNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	if err := newRefModel(s.Fake).check(tx.String()); err != nil {
		s.LastTransaction = tx
		return err
	}
	return s.Fake.Run(ctx, tx)
}

// refModel is what refers to what in the table.
type refModel struct {
	rules map[string][]string          // chain: rule texts
	jumps map[string]map[string]string // verdict map: key: chain
	sigs  map[string]string            // set or map: type and flags
	// oldTypeof are the typeof maps made by an earlier transaction.
	oldTypeof map[string]bool
}

func emptyRefModel() *refModel {
	return &refModel{rules: map[string][]string{}, jumps: map[string]map[string]string{},
		sigs: map[string]string{}, oldTypeof: map[string]bool{}}
}

func newRefModel(f *knftables.Fake) *refModel {
	m := emptyRefModel()
	if f.Table == nil {
		return m
	}
	for name, c := range f.Table.Chains {
		for _, r := range c.Rules {
			m.rules[name] = append(m.rules[name], r.Rule)
		}
	}
	for name, s := range f.Table.Sets {
		set := s.Set
		set.Handle = nil // an add with a handle is refused
		tx := f.NewTransaction()
		tx.Add(&set)
		m.sigs[name] = signature(tx.String())
	}
	for name, mp := range f.Table.Maps {
		def := mp.Map
		def.Handle = nil
		tx := f.NewTransaction()
		tx.Add(&def)
		m.sigs[name] = signature(tx.String())
		m.oldTypeof[name] = def.TypeOf != ""
		m.jumps[name] = map[string]string{}
		for _, e := range mp.Elements {
			if v := strings.Fields(strings.Join(e.Value, " ")); len(v) == 2 && (v[0] == "goto" || v[0] == "jump") {
				m.jumps[name][strings.Join(e.Key, " . ")] = v[1]
			}
		}
	}
	return m
}

// signature is the type and flags of an "add set|map" line.
func signature(line string) string {
	_, spec, _ := strings.Cut(line, "{ ")
	var keep []string
	for _, seg := range strings.Split(strings.TrimSuffix(strings.TrimSpace(spec), "}"), ";") {
		seg = strings.TrimSpace(seg)
		if strings.HasPrefix(seg, "type ") || strings.HasPrefix(seg, "typeof ") || strings.HasPrefix(seg, "flags ") {
			keep = append(keep, seg)
		}
	}
	return strings.Join(keep, "; ")
}

func (m *refModel) check(tx string) error {
	prefix := "ip " + TableName + " "
	for _, line := range strings.Split(strings.TrimSpace(tx), "\n") {
		verb, rest, _ := strings.Cut(line, " ")
		obj, rest, _ := strings.Cut(rest, " ")
		rest = strings.TrimPrefix(rest, prefix)
		name, body, _ := strings.Cut(rest, " ")
		if err := m.apply(verb, obj, name, body, line); err != nil {
			return err
		}
	}
	return nil
}

func (m *refModel) apply(verb, obj, name, body, line string) error {
	switch verb + " " + obj {
	case "delete table":
		*m = *emptyRefModel()
	case "flush chain":
		m.rules[name] = nil
	case "add rule":
		for _, w := range strings.Fields(body) {
			if m.oldTypeof[strings.TrimPrefix(w, "@")] && strings.HasPrefix(w, "@") {
				return fmt.Errorf("%s: conflicting protocols specified: ip vs. th (strict fake: nft 1.0.6)", line)
			}
		}
		m.rules[name] = append(m.rules[name], body)
	case "flush map":
		m.jumps[name] = map[string]string{}
	case "add set", "add map":
		return m.addSet(name, line)
	case "delete set", "delete map":
		return m.deleteSet(name, line)
	case "delete chain":
		return m.deleteChain(name, line)
	case "add element":
		key, value, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(body, "{ "), " }"), " : ")
		if v := strings.Fields(value); ok && len(v) == 2 && (v[0] == "goto" || v[0] == "jump") {
			if m.jumps[name] == nil {
				m.jumps[name] = map[string]string{}
			}
			m.jumps[name][key] = v[1]
		}
	case "delete element":
		delete(m.jumps[name], strings.TrimSuffix(strings.TrimPrefix(body, "{ "), " }"))
	}
	return nil
}

func (m *refModel) addSet(name, line string) error {
	sig := signature(line)
	if old, ok := m.sigs[name]; ok && old != sig {
		return fmt.Errorf("%s: File exists (strict fake: was %q)", line, old)
	}
	m.sigs[name] = sig
	return nil
}

func (m *refModel) deleteSet(name, line string) error {
	for chain, rules := range m.rules {
		for _, r := range rules {
			if strings.Contains(" "+r+" ", " @"+name+" ") {
				return fmt.Errorf("%s: Device or resource busy (strict fake: chain %s: %s)", line, chain, r)
			}
		}
	}
	delete(m.sigs, name)
	delete(m.jumps, name)
	delete(m.oldTypeof, name)
	return nil
}

func (m *refModel) deleteChain(name, line string) error {
	for chain, rules := range m.rules {
		for _, r := range rules {
			if chain != name && (strings.Contains(r+" ", "goto "+name+" ") || strings.Contains(r+" ", "jump "+name+" ")) {
				return fmt.Errorf("%s: Device or resource busy (strict fake: chain %s: %s)", line, chain, r)
			}
		}
	}
	for vmap, es := range m.jumps {
		for k, c := range es {
			if c == name {
				return fmt.Errorf("%s: Device or resource busy (strict fake: %s { %s })", line, vmap, k)
			}
		}
	}
	delete(m.rules, name)
	return nil
}
