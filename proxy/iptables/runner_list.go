package iptables

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// The cleanup's listing and deleting. With the nf_tables backend,
// iptables-save and iptables-restore translate every rule of the table in
// user space (at 10,000 Services, 70,000 rules: 14 s to save, 9 s to
// flush and delete the 40,000 chains), while nft lists the chain names in
// 0.2 s and flushes and deletes them in 0.5 s; `iptables -S CHAIN` reads
// one chain only. With the legacy backend iptables-save and -restore are
// used, as they are fast there.

// nftTables says whether ListChains and DeleteChains go through nft.
func (r *ExecRunner) nftTables(ctx context.Context) bool {
	r.once.Do(func() {
		out, err := r.exec(ctx, nil, "iptables", "-V")
		_, lookErr := exec.LookPath("nft")
		r.viaNFT = err == nil && lookErr == nil && strings.Contains(string(out), "nf_tables")
	})
	return r.viaNFT
}

// ListChains implements Runner.
func (r *ExecRunner) ListChains(ctx context.Context, table string) ([]string, error) {
	if !r.nftTables(ctx) {
		out, err := r.Save(ctx, table)
		if err != nil {
			return nil, err
		}
		if t := parseSave(out)[table]; t != nil {
			return t.order, nil
		}
		return nil, nil
	}
	out, err := r.exec(ctx, nil, "nft", "list", "chains", "ip")
	if err != nil {
		return nil, err
	}
	return nftChains(out, table), nil
}

// nftChains reads the chains of table ip <table> from `nft list chains
// ip`.
func nftChains(out []byte, table string) []string {
	var chains []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if name, ok := strings.CutPrefix(line, "table ip "); ok {
			in = strings.TrimSuffix(name, " {") == table
			continue
		}
		if name, ok := strings.CutPrefix(line, "chain "); ok && in {
			chains = append(chains, strings.Trim(strings.TrimSuffix(name, " {"), `"`))
		}
	}
	return chains
}

// ListRules implements Runner.
func (r *ExecRunner) ListRules(ctx context.Context, table, chain string) ([]string, error) {
	out, err := r.exec(ctx, nil, "iptables", "--wait", "-t", table, "-S", chain)
	if err != nil {
		return nil, err
	}
	var rules []string
	for _, line := range strings.Split(string(out), "\n") {
		if spec, ok := strings.CutPrefix(line, "-A "+chain+" "); ok {
			rules = append(rules, spec)
		}
	}
	return rules, nil
}

// DeleteChains implements Runner.
func (r *ExecRunner) DeleteChains(ctx context.Context, table string, chains []string) error {
	if len(chains) == 0 {
		return nil
	}
	var b strings.Builder
	if !r.nftTables(ctx) {
		b.WriteString("*" + table + "\n")
		for _, c := range chains {
			fmt.Fprintf(&b, ":%s - [0:0]\n", c)
		}
		for _, c := range chains {
			fmt.Fprintf(&b, "-X %s\n", c)
		}
		b.WriteString("COMMIT\n")
		return r.Restore(ctx, []byte(b.String()))
	}
	for _, c := range chains {
		fmt.Fprintf(&b, "flush chain ip %s %s\n", table, c)
	}
	for _, c := range chains {
		fmt.Fprintf(&b, "delete chain ip %s %s\n", table, c)
	}
	_, err := r.exec(ctx, []byte(b.String()), "nft", "-f", "-")
	return err
}
