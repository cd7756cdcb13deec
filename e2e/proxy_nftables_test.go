//go:build linux && e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/lab"
	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/nftables"
	pt "github.com/nodeagent/nodeagent/proxy/proxytest"
)

// newNftProxier makes the nftables backend bound to the lab node's
// namespace, and deletes its table when the test ends.
func newNftProxier(t *testing.T, node *lab.Node) *nftables.Proxier {
	t.Helper()
	framework.RequireBinaries(t, "nft")
	nft, err := nftables.NewInterfaceInNetNS(node.NetNSPath())
	if err != nil {
		t.Fatalf("nftables interface: %v", err)
	}
	log := slog.New(slog.NewTextHandler(warnFails{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := nftables.New(proxy.DefaultConfig(), nft, log)
	t.Cleanup(func() {
		if err := p.Cleanup(context.Background()); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return p
}

// warnFails passes the backend's log on to stderr and fails the test on
// a warning: the only one is "table rebuilt", a full sync that failed.
type warnFails struct{ t *testing.T }

func (w warnFails) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("level=WARN")) {
		w.t.Errorf("backend warning: %s", b)
	}
	return os.Stderr.Write(b)
}

// nftList is `nft list table ip nodeagent` in the lab node, with runs of
// white space folded to one space; ok is false when the table is absent.
func nftList(t *testing.T, node *lab.Node) (string, bool) {
	t.Helper()
	return nftTable(t, node, "nodeagent")
}

// nftTable is nftList for the ip table named table.
func nftTable(t *testing.T, node *lab.Node, table string) (string, bool) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command("nft", "list", "table", "ip", table)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := node.Run(cmd); err != nil {
		if strings.Contains(errOut.String(), "No such file or directory") {
			return "", false
		}
		t.Fatalf("nft list: %v: %s", err, errOut.String())
	}
	return strings.Join(strings.Fields(out.String()), " "), true
}

func TestProxyNftablesTable(t *testing.T) {
	framework.RequireRoot(t)
	node := framework.NewLab(t)
	p := newNftProxier(t, node)
	ctx := context.Background()

	b := pt.New("192.168.1.2")
	web := b.Service("ns", "web", "10.96.0.10", 80, pt.NodePort(30080))
	b.Endpoints(web, pt.Ready("10.244.1.5", 8080), pt.Ready("10.244.2.6", 8080), pt.Local("10.244.0.7", 8080))
	dns := b.Service("kube-system", "dns", "10.96.0.53", 53, pt.UDP, pt.Affinity(300))
	b.Endpoints(dns, pt.Ready("10.244.1.9", 53), pt.Ready("10.244.2.9", 53))
	loc := b.Service("ns", "local", "10.96.0.12", 80, pt.ExternalLocal, pt.ExternalIPs("203.0.113.7"))
	b.Endpoints(loc, pt.Ready("10.244.1.5", 80), pt.Local("10.244.0.8", 80))
	b.Service("ns", "empty", "10.96.0.13", 80)
	s := b.Snapshot()
	if err := p.Sync(ctx, s, true); err != nil {
		t.Fatalf("full sync: %v", err)
	}
	list, _ := nftList(t, node)
	for _, want := range []string{
		"10.96.0.10 . tcp . 80 . 2 : 10.244.2.6 . 8080",
		"tcp . 30080 . 0 : 10.244.0.7 . 8080",
		"10.96.0.53 . udp . 53 : goto aff-",
		"203.0.113.7 . tcp . 80 . 0 : 10.244.0.8 . 80",
		"10.96.0.13 . tcp . 80",
		"dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 3 map @svc-3",
	} {
		if !strings.Contains(list, want) {
			t.Errorf("after the full sync the table lacks %q:\n%s", want, list)
		}
	}

	// A partial change: one endpoint replaced.
	s.Endpoints[web][1].IP = netip.MustParseAddr("10.244.3.3")
	if err := p.Sync(ctx, s, false); err != nil {
		t.Fatalf("partial sync: %v", err)
	}
	list, _ = nftList(t, node)
	if !strings.Contains(list, "10.96.0.10 . tcp . 80 . 1 : 10.244.3.3 . 8080") || strings.Contains(list, "10.244.1.5 . 8080") {
		t.Errorf("partial sync did not replace the endpoint:\n%s", list)
	}

	// A removal: the affinity service and its chains and sets go.
	delete(s.Services, dns)
	delete(s.Endpoints, dns)
	if err := p.Sync(ctx, s, false); err != nil {
		t.Fatalf("removal sync: %v", err)
	}
	list, _ = nftList(t, node)
	for _, gone := range []string{"10.96.0.53", "aff-", "10.244.1.9"} {
		if strings.Contains(list, gone) {
			t.Errorf("%q left after the removal:\n%s", gone, list)
		}
	}

	// Without node IPs, node ports answer on any local address (fib).
	s.NodeIPs = nil
	if err := p.Sync(ctx, s, true); err != nil {
		t.Fatalf("full sync without node IPs: %v", err)
	}
	list, _ = nftList(t, node)
	if want := "fib daddr type local ip daddr != 127.0.0.0/8 dnat ip to meta l4proto . th dport . numgen random mod 3 map @np-3"; !strings.Contains(list, want) {
		t.Errorf("the table lacks %q:\n%s", want, list)
	}

	if err := p.Cleanup(ctx); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if list, ok := nftList(t, node); ok {
		t.Fatalf("table left after cleanup:\n%s", list)
	}
	if err := p.Cleanup(ctx); err != nil {
		t.Fatalf("second cleanup: %v", err)
	}
}

// TestProxyNftablesTraffic sends real connections inside the lab node, to
// endpoints that are addresses of the node itself (on lo): through a
// cluster IP balanced over two endpoints, with ClientIP affinity, through
// a node port, and to a service without endpoints, which must be refused
// at once.
func TestProxyNftablesTraffic(t *testing.T) {
	framework.RequireRoot(t)
	node := framework.NewLab(t)
	p := newNftProxier(t, node)
	ctx := context.Background()
	for _, addr := range []string{"10.244.0.5/32", "10.244.0.6/32", "192.168.77.2/32"} {
		if err := node.Run(exec.Command("ip", "addr", "add", addr, "dev", "lo")); err != nil {
			t.Fatalf("address %s on lo: %v", addr, err)
		}
	}
	for _, ip := range []string{"10.244.0.5", "10.244.0.6"} {
		var ln net.Listener
		if err := node.Do(func() (err error) { ln, err = net.Listen("tcp", ip+":8080"); return err }); err != nil {
			t.Fatalf("listen: %v", err)
		}
		defer ln.Close()
		go serveHello(ln, ip)
	}

	b := pt.New("192.168.77.2")
	web := b.Service("ns", "web", "10.96.0.10", 80, pt.NodePort(30080))
	b.Endpoints(web, pt.Local("10.244.0.5", 8080), pt.Local("10.244.0.6", 8080))
	sticky := b.Service("ns", "sticky", "10.96.0.12", 80, pt.Affinity(600))
	b.Endpoints(sticky, pt.Local("10.244.0.5", 8080), pt.Local("10.244.0.6", 8080))
	b.Service("ns", "empty", "10.96.0.11", 80)
	if err := p.Sync(ctx, b.Snapshot(), true); err != nil {
		t.Fatalf("sync: %v", err)
	}
	// 24 connections all reaching one of two endpoints by chance: 1 in 8 million.
	if got := answers(t, ctx, node, "10.96.0.10:80", 24); len(got) != 2 {
		t.Errorf("cluster IP reached %v, want both endpoints", got)
	}
	if got := answers(t, ctx, node, "192.168.77.2:30080", 24); len(got) != 2 {
		t.Errorf("node port reached %v, want both endpoints", got)
	}
	got := answers(t, ctx, node, "10.96.0.12:80", 12)
	if len(got) != 1 {
		t.Errorf("affinity service reached %v, want one endpoint only", got)
	}
	_, err := dialRead(ctx, node, "10.96.0.11:80")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("to a service without endpoints: %v, want connection refused", err)
	}
	for ep := range got {
		checkAffinityKept(t, ctx, node, p, b, sticky, ep)
	}
}

// checkAffinityKept: the client that the affinity service sent to ep (an
// endpoint's address, as it answers) stays in ep's affinity set through a partial sync, full syncs and a
// restarted backend's first sync, and each next connection reaches ep.
// A changed timeout recreates the set; a removed service takes it along.
func checkAffinityKept(t *testing.T, ctx context.Context, node *lab.Node, p *nftables.Proxier, b *pt.Builder, sticky proxy.ServicePortName, ep string) {
	set := affinitySet(t, node, ep)
	client := setElements(t, node, set)
	if len(client) != 1 {
		t.Fatalf("affinity set %s holds %v, want the one client", set, client)
	}
	b.Service("ns", "more", "10.96.0.14", 80) // for the partial sync
	s := b.Snapshot()
	syncs := []struct {
		name string
		p    *nftables.Proxier
		full bool
	}{{"partial", p, false}, {"full", p, true}, {"full", p, true}, {"restarted backend's first", newNftProxier(t, node), false}}
	for _, sy := range syncs {
		if err := sy.p.Sync(ctx, s, sy.full); err != nil {
			t.Fatalf("%s sync: %v", sy.name, err)
		}
		if got := setElements(t, node, set); !slices.Equal(got, client) {
			t.Fatalf("after a %s sync %s holds %v, want %v", sy.name, set, got, client)
		}
		if a, err := dialRead(ctx, node, "10.96.0.12:80"); err != nil || a != ep {
			t.Fatalf("after a %s sync the affinity service answered %q (%v), want %s", sy.name, a, err, ep)
		}
	}
	p = syncs[len(syncs)-1].p
	s.Services[sticky].AffinityTimeout = 300
	if err := p.Sync(ctx, s, false); err != nil {
		t.Fatalf("sync with a changed timeout: %v", err)
	}
	if list := nftListSet(t, node, set); !strings.Contains(list, "timeout 5m") || strings.Contains(list, "elements") {
		t.Fatalf("after a timeout change, want the set recreated empty with 5m:\n%s", list)
	}
	delete(s.Services, sticky)
	delete(s.Endpoints, sticky)
	if err := p.Sync(ctx, s, true); err != nil {
		t.Fatalf("full sync without the affinity service: %v", err)
	}
	if list, _ := nftList(t, node); strings.Contains(list, "aff-") {
		t.Fatalf("the removed affinity service left objects:\n%s", list)
	}
}

// affinitySet finds the name of the (only) affinity service's set for
// its endpoint at ip, port 8080, in the table.
func affinitySet(t *testing.T, node *lab.Node, ip string) string {
	t.Helper()
	list, _ := nftList(t, node)
	m := regexp.MustCompile(`set (aff-[a-z2-7]{16}-c-` + regexp.QuoteMeta(ip) + `-8080) \{`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("no affinity set for %s:8080:\n%s", ip, list)
	}
	return m[1]
}

// nftListSet is `nft list set ip nodeagent <name>`, white space folded.
func nftListSet(t *testing.T, node *lab.Node, name string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command("nft", "list", "set", "ip", "nodeagent", name)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := node.Run(cmd); err != nil {
		t.Fatalf("nft list set %s: %v: %s", name, err, errOut.String())
	}
	return strings.Join(strings.Fields(out.String()), " ")
}

// setElements lists the addresses in a set ("elements = { a expires ...,
// b ... }"), sorted.
func setElements(t *testing.T, node *lab.Node, name string) []string {
	t.Helper()
	_, elems, ok := strings.Cut(nftListSet(t, node, name), "elements = { ")
	if !ok {
		return nil
	}
	elems, _, _ = strings.Cut(elems, "}")
	var addrs []string
	for _, e := range strings.Split(elems, ",") {
		if f := strings.Fields(e); len(f) > 0 {
			addrs = append(addrs, f[0])
		}
	}
	slices.Sort(addrs)
	return addrs
}

// answers connects n times and counts the answers by endpoint.
func answers(t *testing.T, ctx context.Context, node *lab.Node, addr string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		a, err := dialRead(ctx, node, addr)
		if err != nil {
			t.Fatalf("to %s: %v", addr, err)
		}
		got[a]++
	}
	return got
}

func serveHello(ln net.Listener, name string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte(name))
		c.Close()
	}
}

func dialRead(ctx context.Context, node *lab.Node, addr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := node.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

// TestProxyNftablesScale loads 10,000 services x 3 endpoints into a lab
// node, then changes one endpoint; it logs how long each took.
func TestProxyNftablesScale(t *testing.T) {
	framework.RequireRoot(t)
	node := framework.NewLab(t)
	p := newNftProxier(t, node)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := pt.New("192.168.1.2")
	var names []proxy.ServicePortName
	for i := range 10000 {
		n := b.Service("ns", fmt.Sprintf("svc-%d", i), fmt.Sprintf("10.96.%d.%d", i/250, i%250+1), 80,
			pt.NodePort(int32(30000+i%2700)))
		b.Endpoints(n, pt.Ready(fmt.Sprintf("10.244.%d.%d", i/250, i%250+1), 8080),
			pt.Ready(fmt.Sprintf("10.245.%d.%d", i/250, i%250+1), 8080), pt.Ready(fmt.Sprintf("10.246.%d.%d", i/250, i%250+1), 8080))
		names = append(names, n)
	}
	s := b.Snapshot()
	start := time.Now()
	if err := p.Sync(ctx, s, true); err != nil {
		t.Fatalf("full sync of 10,000 services: %v", err)
	}
	t.Logf("full sync of 10,000 services x 3 endpoints: %s", time.Since(start))
	// The table was empty, so the elements went in parts side by side
	// (syncFresh): every one of them must be in the kernel.
	nft, err := nftables.NewInterfaceInNetNS(node.NetNSPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		typ, name string
		want      int
	}{{"map", "svc-3", 30000}, {"set", "cluster-ips", 10000}, {"map", "np-3", 3 * 2700}} {
		elems, err := nft.ListElements(ctx, c.typ, c.name)
		if err != nil || len(elems) != c.want {
			t.Fatalf("%s %s holds %d elements (%v), want %d", c.typ, c.name, len(elems), err, c.want)
		}
	}
	s.Endpoints[names[4321]][0].IP = netip.MustParseAddr("10.247.0.1")
	start = time.Now()
	if err := p.Sync(ctx, s, false); err != nil {
		t.Fatalf("partial sync: %v", err)
	}
	t.Logf("partial sync (one endpoint changed) at 10,000 services: %s", time.Since(start))
	start = time.Now()
	if err := p.Sync(ctx, s, true); err != nil {
		t.Fatalf("second full sync: %v", err)
	}
	t.Logf("full resync over a loaded table: %s", time.Since(start))
	start = time.Now()
	if err := p.Cleanup(ctx); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	t.Logf("cleanup: %s", time.Since(start))
}
