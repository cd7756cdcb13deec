package iptables

import (
	"context"
	"slices"
	"strings"
	"testing"

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
