//go:build linux && e2e

package e2e

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"os/exec"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/lab"
	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/iptables"
	"github.com/nodeagent/nodeagent/proxy/proxytest"
)

// TestProxyIptablesRulesLoad applies snapshots through the real runner in a
// lab node and checks what iptables-save shows there: the first full sync,
// a partial sync of an endpoint change, a service's removal, then Cleanup,
// which must leave no KUBE- chain and keep others' rules. A fake driven
// through the same syncs must hold the same chains.
func TestProxyIptablesRulesLoad(t *testing.T) {
	ctx := context.Background()
	node, run, p, fake, pf := realAndFake(t)
	ipt(t, node, "-t", "filter", "-N", "OTHER")
	ipt(t, node, "-t", "filter", "-A", "INPUT", "-j", "OTHER")

	sync := func(s *proxy.Snapshot, full bool) {
		t.Helper()
		for _, b := range []proxy.Backend{p, pf} {
			if err := b.Sync(ctx, s, full); err != nil {
				t.Fatalf("sync: %v", err)
			}
		}
		sameChains(t, ctx, run, fake)
	}
	sync(snapshot("10.244.1.1", "10.244.2.2", "10.244.3.3"), true)
	nat := save(t, ctx, run, "nat")
	svc := jumpOf(t, nat, `"default/web cluster IP"`)
	if !strings.HasPrefix(svc, "KUBE-SVC-") || !strings.Contains(nat, ":"+svc+" - ") {
		t.Fatalf("cluster IP rule jumps to %q, not a loaded KUBE-SVC chain:\n%s", svc, nat)
	}
	for _, ep := range []string{"10.244.1.1:8080", "10.244.2.2:8080", "10.244.3.3:8080"} {
		if !strings.Contains(nat, "-j DNAT --to-destination "+ep) {
			t.Errorf("no DNAT to %s:\n%s", ep, nat)
		}
	}
	if f := save(t, ctx, run, "filter"); !strings.Contains(f, "default/empty has no endpoints") || !strings.Contains(f, "-j REJECT") {
		t.Errorf("filter has no REJECT for default/empty:\n%s", f)
	}

	sync(snapshot("10.244.1.1", "10.244.2.2", "10.244.9.9"), false)
	nat = save(t, ctx, run, "nat")
	if !strings.Contains(nat, "--to-destination 10.244.9.9:8080") || strings.Contains(nat, "--to-destination 10.244.3.3:8080") {
		t.Errorf("partial sync did not move the endpoint:\n%s", nat)
	}

	sync(proxytest.New("192.168.0.10").Snapshot(), false)
	nat = save(t, ctx, run, "nat")
	if strings.Contains(nat, "default/web") || strings.Contains(nat, svc) {
		t.Errorf("removed service's rules are left:\n%s", nat)
	}
	sync(snapshot("10.244.1.1"), true)
	sync(snapshot("10.244.1.1"), true)
	if n := strings.Count(save(t, ctx, run, "nat"), "-A PREROUTING"); n != 1 {
		t.Errorf("PREROUTING has %d rules after two full syncs, want the one jump", n)
	}

	for i := 0; i < 2; i++ {
		if err := p.Cleanup(ctx); err != nil {
			t.Fatalf("cleanup %d: %v", i, err)
		}
	}
	for _, table := range []string{"nat", "filter"} {
		if out := save(t, ctx, run, table); strings.Contains(out, "KUBE-") {
			t.Errorf("%s after cleanup:\n%s", table, out)
		}
	}
	if f := save(t, ctx, run, "filter"); !strings.Contains(f, "-A INPUT -j OTHER") {
		t.Errorf("cleanup removed others' rules:\n%s", f)
	}
}

// realAndFake is an iptables proxier on the real runner in a new lab node
// (cleaned up after the test) and one on a fake, to be driven alike.
func realAndFake(t *testing.T) (node *lab.Node, run iptables.Runner, real *iptables.Proxier, fake *iptables.Fake, onFake *iptables.Proxier) {
	t.Helper()
	framework.RequireRoot(t)
	framework.RequireBinaries(t, "ip", "iptables", "iptables-restore", "iptables-save")
	node = framework.NewLab(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	run = iptables.NewRunner("ip", "netns", "exec", node.Config().NetNSName())
	real = iptables.New(proxy.DefaultConfig(), run, log)
	fake = iptables.NewFake()
	onFake = iptables.New(proxy.DefaultConfig(), fake, log)
	t.Cleanup(func() { real.Cleanup(context.Background()) })
	return node, run, real, fake, onFake
}

// snapshot: default/web with a node port, affinity, an external IP and
// the given endpoints; default/empty with none; default/local with
// externalTrafficPolicy Local.
func snapshot(eps ...string) *proxy.Snapshot {
	b := proxytest.New("192.168.0.10")
	web := b.Service("default", "web", "10.96.0.10", 80, proxytest.NodePort(30080), proxytest.Affinity(600),
		proxytest.ExternalIPs("203.0.113.5"))
	for _, ip := range eps {
		b.Endpoints(web, proxytest.Ready(ip, 8080))
	}
	b.Service("default", "empty", "10.96.0.11", 80, proxytest.NodePort(30081))
	local := b.Service("default", "local", "10.96.0.12", 53, proxytest.UDP, proxytest.NodePort(30082), proxytest.ExternalLocal)
	b.Endpoints(local, proxytest.Ready("10.244.5.5", 53), proxytest.Local("10.244.6.6", 53))
	return b.Snapshot()
}

func ipt(t *testing.T, node *lab.Node, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"netns", "exec", node.Config().NetNSName(), "iptables", "-w"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables %v: %v: %s", args, err, out)
	}
}

func save(t *testing.T, ctx context.Context, r iptables.Runner, table string) string {
	t.Helper()
	out, err := r.Save(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// jumpOf returns the -j target of the rule whose text contains marker.
func jumpOf(t *testing.T, dump, marker string) string {
	t.Helper()
	for _, l := range strings.Split(dump, "\n") {
		if strings.Contains(l, marker) {
			if _, target, ok := strings.Cut(l, " -j "); ok {
				return strings.Fields(target)[0]
			}
		}
	}
	t.Fatalf("no rule with %s:\n%s", marker, dump)
	return ""
}

// sameChains checks the kernel and the fake hold the same chains, each
// with the same number of rules.
func sameChains(t *testing.T, ctx context.Context, real iptables.Runner, fake *iptables.Fake) {
	t.Helper()
	for _, table := range []string{"nat", "filter"} {
		want := map[string]int{}
		for _, c := range fake.Chains(table) {
			want[c] = len(fake.Rules(table, c))
		}
		got := map[string]int{}
		for _, l := range strings.Split(save(t, ctx, real, table), "\n") {
			if name, _, ok := strings.Cut(strings.TrimPrefix(l, ":"), " "); ok && strings.HasPrefix(l, ":") {
				got[name] += 0
			} else if chain, _, ok := strings.Cut(strings.TrimPrefix(l, "-A "), " "); ok && strings.HasPrefix(l, "-A ") {
				got[chain]++
			}
		}
		listed := map[string]int{}
		chains, err := real.ListChains(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range chains {
			rules, err := real.ListRules(ctx, table, c)
			if err != nil {
				t.Fatal(err)
			}
			listed[c] = len(rules)
		}
		// The cleanup's listing (nft and iptables -S CHAIN) sees what
		// iptables-save does, but the empty built-in chains that
		// iptables-nft has not made yet (iptables-save shows them all).
		saved := maps.Clone(got)
		for _, b := range []string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"} {
			if _, ok := listed[b]; !ok && saved[b] == 0 {
				delete(saved, b)
			}
		}
		if !maps.Equal(listed, saved) {
			t.Errorf("%s: listed %v, saved %v", table, listed, saved)
		}
		delete(got, "OTHER")
		got["INPUT"] -= boolInt(table == "filter")
		if !maps.Equal(got, want) {
			t.Errorf("%s: kernel %v, fake %v", table, got, want)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestProxyIptablesFakeRejectsLikeTheKernel feeds inputs the real
// iptables-restore refuses to both it and the fake: both must refuse them,
// and both commit per table (a failing filter block keeps the nat block).
func TestProxyIptablesFakeRejectsLikeTheKernel(t *testing.T) {
	framework.RequireRoot(t)
	framework.RequireBinaries(t, "ip", "iptables-restore", "iptables-save")
	node := framework.NewLab(t)
	ctx := context.Background()
	real := iptables.NewRunner("ip", "netns", "exec", node.Config().NetNSName())
	fake := iptables.NewFake()
	for name, input := range map[string]string{
		"append to unknown chain": "*nat\n-A NOPE -j ACCEPT\nCOMMIT\n",
		"jump to unknown chain":   "*nat\n:KUBE-A - [0:0]\n-A KUBE-A -j KUBE-B\nCOMMIT\n",
		"delete referenced chain": "*nat\n:KUBE-A - [0:0]\n:KUBE-B - [0:0]\n-A KUBE-A -j KUBE-B\n-X KUBE-B\nCOMMIT\n",
		"delete built-in chain":   "*nat\n-X PREROUTING\nCOMMIT\n",
		"delete non-empty chain":  "*nat\n:KUBE-A - [0:0]\n-A KUBE-A -j RETURN\n-X KUBE-A\nCOMMIT\n",
		"delete missing rule":     "*nat\n-D PREROUTING -j RETURN\nCOMMIT\n",
		"REJECT in nat":           "*nat\n:KUBE-C - [0:0]\n-A KUBE-C -j REJECT\nCOMMIT\n",
		"DROP in nat":             "*nat\n-A PREROUTING -j DROP\nCOMMIT\n",
		"no COMMIT":               "*nat\n:KUBE-A - [0:0]\n",
		"unknown table":           "*nope\nCOMMIT\n",
		"chain name too long":     "*nat\n:KUBE-THIS-NAME-IS-FAR-TOO-LONG-X - [0:0]\nCOMMIT\n",
		"create existing chain":   "*nat\n-N PREROUTING\nCOMMIT\n",
	} {
		for _, r := range []iptables.Runner{real, fake} {
			if err := r.Restore(ctx, []byte(input)); err == nil {
				t.Errorf("%s: %T accepted it", name, r)
			} else if r == real && !strings.Contains(err.Error(), "line") {
				t.Errorf("%s: error %q does not carry iptables-restore's message", name, err)
			}
		}
	}
	perTable := "*nat\n:KUBE-A - [0:0]\n-A KUBE-A -j RETURN\nCOMMIT\n*filter\n-A NOPE -j ACCEPT\nCOMMIT\n"
	for _, r := range []iptables.Runner{real, fake} {
		if err := r.Restore(ctx, []byte(perTable)); err == nil {
			t.Errorf("%T accepted a bad filter block", r)
		}
		if out := save(t, ctx, r, "nat"); !strings.Contains(out, "-A KUBE-A -j RETURN") {
			t.Errorf("%T: the nat block before the failing one is not committed:\n%s", r, out)
		}
	}
}
