package iptables

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/proxy"
)

// A Service that comes or goes changes KUBE-SERVICES and KUBE-NODEPORTS
// by its own rules (-I at the top, -D), not by writing them whole; the
// jump to KUBE-NODEPORTS stays last, and traffic finds every Service.
func TestOneServiceEditsTheSharedChainsInPlace(t *testing.T) {
	p, f := newTest(t)
	mustSync(t, p, services(20, 0), true)
	mustSync(t, p, services(21, 0), false)
	in := lastInput(t, f)
	for _, c := range declared(in) {
		if !perServicePort(c) {
			t.Errorf("the input declares (so rewrites) %s:\n%s", c, in)
		}
	}
	if !strings.Contains(in, "-I KUBE-SERVICES 1 -d 10.96.1.21/32 ") || !strings.Contains(in, "-I KUBE-NODEPORTS 1 ") {
		t.Errorf("no insert of the new Service's rules:\n%s", in)
	}
	rules := f.Rules("nat", chainServices)
	if last := rules[len(rules)-1]; !strings.Contains(last, "-j KUBE-NODEPORTS") {
		t.Errorf("KUBE-SERVICES's last rule is %q, want the jump to KUBE-NODEPORTS", last)
	}
	expectReach(t, trace(t, f, podClient, "10.96.1.21:80", false, testEnv), false, "10.244.0.21:8080", "10.244.1.21:8080", "10.244.2.21:8080")

	mustSync(t, p, services(19, 0), false)
	in = lastInput(t, f)
	if n := strings.Count(in, "-D KUBE-SERVICES "); n != 2 || strings.Contains(in, ":KUBE-SERVICES ") {
		t.Errorf("%d deletes from KUBE-SERVICES (want 2, no rewrite):\n%s", n, in)
	}
	assertSameRulesAsAFullSync(t, f, services(19, 0))
	for i := 1; i <= 19; i++ {
		expectReach(t, trace(t, f, podClient, fmt.Sprintf("10.96.1.%d:80", i), false, testEnv), false,
			fmt.Sprintf("10.244.0.%d:8080", i), fmt.Sprintf("10.244.1.%d:8080", i), fmt.Sprintf("10.244.2.%d:8080", i))
	}
}

// Past maxEdits rules, the chain is written whole again.
func TestManyChangesRewriteTheSharedChains(t *testing.T) {
	p, f := newTest(t)
	mustSync(t, p, services(5, 0), true)
	mustSync(t, p, services(6+maxEdits, 0), false)
	in := lastInput(t, f)
	if !slices.Contains(declared(in), chainServices) || strings.Contains(in, "-I KUBE-SERVICES") {
		t.Errorf("%d new Services: KUBE-SERVICES not written whole:\n%.2000s", maxEdits+1, in)
	}
	assertSameRulesAsAFullSync(t, f, services(6+maxEdits, 0))
}

// assertSameRulesAsAFullSync: f's chains hold the rules a full sync of s
// makes, in any order but KUBE-SERVICES's last rule.
func assertSameRulesAsAFullSync(t *testing.T, f *Fake, s *proxy.Snapshot) {
	t.Helper()
	full, ff := newTest(t)
	mustSync(t, full, s, true)
	got, want := chainDump(f), chainDump(ff)
	for table, chains := range want {
		if len(got[table]) != len(chains) {
			t.Errorf("%s: %d chains, want %d", table, len(got[table]), len(chains))
		}
		for c, rules := range chains {
			g := slices.Clone(got[table][c])
			if c == chainServices && table == tableNAT && (len(g) == 0 || g[len(g)-1] != rules[len(rules)-1]) {
				t.Errorf("nat %s does not end with %q: %v", c, rules[len(rules)-1], g)
			}
			w := slices.Clone(rules)
			slices.Sort(g)
			slices.Sort(w)
			if !slices.Equal(g, w) {
				t.Errorf("%s %s holds\n%v\nwant\n%v", table, c, g, w)
			}
		}
	}
}
