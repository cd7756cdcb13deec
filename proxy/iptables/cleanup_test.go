package iptables

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/proxytest"
)

func TestCleanupRemovesOursAndLeavesOthers(t *testing.T) {
	p, f := newTest(t)
	ctx := context.Background()
	// Someone else's chains and rules, one of them jumping into ours.
	others := "*filter\n:KUBE-FIREWALL - [0:0]\n:DOCKER - [0:0]\n-A KUBE-FIREWALL -j DROP\n-A INPUT -j KUBE-FIREWALL\n" +
		"-A FORWARD -j DOCKER\nCOMMIT\n*nat\n:KUBE-MARK-DROP - [0:0]\n-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\n" +
		"-A POSTROUTING -s 172.17.0.0/16 -j MASQUERADE\nCOMMIT\n"
	if err := restore(t, f, others); err != nil {
		t.Fatal(err)
	}
	s, _ := webSnapshot(threeEndpoints, proxytest.Affinity(60), proxytest.ExternalIPs("203.0.113.5"))
	mustSync(t, p, s, true)
	if err := restore(t, f, "*filter\n:MINE - [0:0]\n-A MINE -j KUBE-SERVICES\nCOMMIT\n"); err != nil {
		t.Fatal(err)
	}
	if err := p.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		for _, c := range f.Chains(table) {
			if owned(c) {
				t.Errorf("%s chain %s left", table, c)
			}
			for _, r := range f.Rules(table, c) {
				if target, _ := ruleTarget(strings.Fields(r)); owned(target) {
					t.Errorf("%s %s: rule %q into our chain left", table, c, r)
				}
			}
		}
	}
	if !slices.Contains(f.Chains("nat"), "KUBE-MARK-DROP") || len(f.Rules("filter", "INPUT")) != 1 ||
		len(f.Rules("nat", "POSTROUTING")) != 1 || len(f.Rules("filter", "KUBE-FIREWALL")) != 1 {
		t.Errorf("others' rules were touched:\n%s", dump(t, f))
	}
	n := len(f.Inputs())
	if err := p.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if len(f.Inputs()) != n {
		t.Errorf("a second cleanup sent %q", f.Inputs()[n:])
	}
	// The proxier starts again from scratch: the next sync is full.
	mustSync(t, p, s, false)
	expectReach(t, trace(t, f, podClient, "10.96.0.10:80", false, testEnv), false, ipsOf(threeEndpoints)...)
}

// noSave is a Fake whose whole-table save fails: at 10,000 Services
// iptables-save takes 14 s with the nf_tables backend, so neither the
// cleanup nor the first sync may need it.
type noSave struct{ *Fake }

func (noSave) Save(context.Context, string) ([]byte, error) {
	return nil, errors.New("iptables-save of a whole table")
}

func TestCleanupListsChainsNotTables(t *testing.T) {
	f := NewFake()
	if err := restore(t, f, "*nat\n:KUBE-SEP-LEFTOVER - [0:0]\nCOMMIT\n"); err != nil {
		t.Fatal(err)
	}
	log := &bytes.Buffer{}
	p := New(proxy.DefaultConfig(), noSave{f}, slog.New(slog.NewTextHandler(log, nil)))
	s, _ := webSnapshot(threeEndpoints)
	mustSync(t, p, s, false)
	if len(f.Rules("nat", "PREROUTING")) == 0 {
		t.Fatal("the sync made no jump from PREROUTING for the cleanup to delete")
	}
	if strings.Contains(log.String(), "cannot list") || slices.Contains(f.Chains("nat"), "KUBE-SEP-LEFTOVER") {
		t.Errorf("the first sync did not find the leftover chain without iptables-save:\n%s", log)
	}
	if err := p.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		for _, c := range f.Chains(table) {
			if owned(c) {
				t.Errorf("%s chain %s left", table, c)
			}
		}
	}
	n := len(f.Deletes())
	if err := p.Cleanup(context.Background()); err != nil || len(f.Deletes()) != n {
		t.Errorf("a second cleanup: %v, deleted %q", err, f.Deletes()[n:])
	}
}

func TestFakeDeleteChainsRefusesAReferencedChain(t *testing.T) {
	f := NewFake()
	if err := restore(t, f, "*nat\n:KUBE-A - [0:0]\n:KUBE-B - [0:0]\n-A KUBE-A -j KUBE-B\n-A PREROUTING -j KUBE-A\nCOMMIT\n"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := f.DeleteChains(ctx, "nat", []string{"KUBE-A", "KUBE-B"}); err == nil {
		t.Fatal("deleted a chain PREROUTING jumps into")
	}
	if len(f.Rules("nat", "KUBE-A")) != 1 {
		t.Fatal("a refused DeleteChains changed the table")
	}
	if err := f.DeleteChains(ctx, "nat", []string{"KUBE-B"}); err == nil {
		t.Fatal("deleted a chain KUBE-A jumps into")
	}
	if err := restore(t, f, "*nat\n-D PREROUTING -j KUBE-A\nCOMMIT\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteChains(ctx, "nat", []string{"KUBE-A", "KUBE-B"}); err != nil {
		t.Fatal(err)
	}
	if chains := f.Chains("nat"); slices.Contains(chains, "KUBE-A") || slices.Contains(chains, "KUBE-B") {
		t.Fatalf("chains left: %v", chains)
	}
}

func TestNFTChains(t *testing.T) {
	out := []byte(`table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy accept;
	}
	chain KUBE-SERVICES {
	}
}
table ip nat {
	chain PREROUTING {
		type nat hook prerouting priority dstnat; policy accept;
	}
	chain KUBE-SEP-ABC {
	}
	chain "odd name" {
	}
}
table ip nodeagent {
	chain services {
	}
}
`)
	if got := nftChains(out, "nat"); !slices.Equal(got, []string{"PREROUTING", "KUBE-SEP-ABC", "odd name"}) {
		t.Fatalf("nat chains %q", got)
	}
	if got := nftChains(out, "filter"); !slices.Equal(got, []string{"INPUT", "KUBE-SERVICES"}) {
		t.Fatalf("filter chains %q", got)
	}
}
