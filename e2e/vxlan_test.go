//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/internal/nsutil"
	"github.com/nodeagent/nodeagent/lab"
)

// Two lab nodes on different subnets (10.77.1.0/24, 10.77.2.0/24) joined
// by a third lab netns that routes between them. The server's agent runs
// --node-routes vxlan; the second agent first runs host-gw, which cannot
// route to a node behind a router: it names the peer unroutable and the
// pods do not reach each other. Restarted with vxlan, both publish their
// VTEP MAC, program the device, routes, neighbours and FDB entries, and
// pods and nodes reach pods on the other node directly and through a
// Service spanning both; a pod on one node sees the other pod's own
// address (no masquerade inside the cluster), while what a pod sends out
// of the cluster is masqueraded (the router sees the node's address).
// `agent --cleanup` leaves no device, route, FDB entry or nftables table.
func TestPodsReachEachOtherAcrossRoutedNodesWithVXLAN(t *testing.T) {
	const ipA, ipB, routerB = "10.77.1.1", "10.77.2.1", "10.77.2.254"
	framework.RequireBinaries(t, "ip", "bridge", "nft", "sysctl")
	requireAgentDeps(t)
	nodeA, nodeB, router := framework.NewLab(t), framework.NewLab(t), framework.NewLab(t)
	routeNodes(t, router, nodeA, nodeB)
	l := startServerNode(t, nodeA, ipA, "--node-routes", "vxlan")
	srv, nameA, nameB := l.srv, nodeName, nodeName+"-b"

	dirsB := framework.NewNodeDirs(t, nodeB, nameB)
	creds := remoteAgentCredentials(t, srv, nameB, "https://"+ipA+":6443", ipB)
	argsB := append(append([]string{"agent"}, creds...), dirsB.AgentArgs(nameB)...)
	hostGW := framework.StartProcess(t, nodeB, "agent-hostgw-"+nameB, argsB...)
	l.waitFor(t, 60*time.Second, "node/"+nameB, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	l.waitFor(t, 10*time.Second, "node/"+nameB, "{.spec.podCIDR}", "10.244.1.0/24")

	podA, podB := l.webOnEachNode(t, nameA, nameB)
	nsA, nsB := l.dirs.NetNSPrefix+l.jsonpath("pod/web-a", "{.metadata.uid}"), dirsB.NetNSPrefix+l.jsonpath("pod/web-b", "{.metadata.uid}")
	fromPodA, fromPodB := l.httpClient(netnsDialer(nsA)), l.httpClient(netnsDialer(nsB))
	t.Logf("web-a %s on %s, web-b %s on %s", podA, nameA, podB, nameB)

	// host-gw: the peer is behind a router.
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "host-gw names "+nameA+" unroutable", func() error {
		if want := "no route 10.244.0.0/24 via " + ipA + ": " + ipA + " is this node's own address or not on one of its links"; !strings.Contains(hostGW.Log(), want) {
			return fmt.Errorf("no %q in the log of %s", want, nameB)
		}
		return nil
	})
	waitRoutes(t, nodeB, "")
	waitRoutes(t, nodeA, "") // the vxlan mode: no MAC from the host-gw node
	if body, err := get(fromPodA, "http://"+podB+":8080/hostname"); err == nil {
		t.Fatalf("with host-gw across a router, web-a reached web-b: %q", body)
	}
	// The VTEP annotation is a node's to set on its own Node alone.
	kB := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: creds[1]}
	if msg := kB.fails("", "patch", "node", nameA, "--type", "merge", "-p", `{"metadata":{"annotations":{"nodeagent.io/vxlan-vtep-mac":"02:00:00:00:00:01"}}}`); !strings.Contains(msg, "Forbidden") {
		t.Errorf("node %s annotating node %s: %s", nameB, nameA, msg)
	}

	hostGW.Kill9()
	agentB := framework.StartProcess(t, nodeB, "agent-vxlan-"+nameB, append(argsB, "--node-routes", "vxlan")...)
	macPath := `{.metadata.annotations.nodeagent\.io/vxlan-vtep-mac}`
	macA, macB := waitAnnotation(t, l, nameA, macPath), waitAnnotation(t, l, nameB, macPath)
	waitRoutes(t, nodeA, "10.244.1.0/24 via 10.244.1.0")
	waitRoutes(t, nodeB, "10.244.0.0/24 via 10.244.0.0")
	wantKernel(t, nodeB, []string{"-d", "link", "show", "nodeagent.1"}, "mtu 1450", "link/ether "+macB, "vxlan id 1 local "+ipB, "dstport 8472", "nolearning")
	wantKernel(t, nodeB, []string{"-4", "addr", "show", "dev", "nodeagent.1"}, "inet 10.244.1.0/32")
	wantKernel(t, nodeB, []string{"neigh", "show", "dev", "nodeagent.1"}, "10.244.0.0 lladdr "+macA+" PERMANENT")
	wantKernel(t, nodeB, []string{"route", "show", "proto", "78"}, "10.244.0.0/24 via 10.244.0.0 dev nodeagent.1 onlink")
	if out, _ := runIn(nodeB, "bridge", "fdb", "show", "dev", "nodeagent.1"); !strings.Contains(string(out), macA+" dst "+ipA+" self permanent") {
		t.Errorf("fdb of %s:\n%s", nameB, out)
	}

	fromA, fromB := l.httpClient(nodeA.DialContext), l.httpClient(nodeB.DialContext)
	l.wantAll(t, fromA, "http://"+podB+":8080/hostname", []string{"web-b"})
	l.wantAll(t, fromB, "http://"+podA+":8080/hostname", []string{"web-a"})
	l.wantAll(t, fromPodA, "http://"+podB+":8080/hostname", []string{"web-b"})
	l.wantAll(t, fromPodB, "http://"+podA+":8080/hostname", []string{"web-a"})
	vip := l.jsonpath("svc/web", "{.spec.clusterIP}")
	for _, c := range []*http.Client{fromA, fromB, fromPodA, fromPodB} {
		l.wantAll(t, c, "http://"+vip+"/hostname", []string{"web-a", "web-b"})
	}
	// Full-size segments both ways (the pods' MTU is 1500, the device's
	// 1450: path MTU discovery, not fragments lost).
	body := strings.Repeat("0123456789abcdef", 1<<14) // 256 KiB
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, "256 KiB echoed across the tunnel", func() error {
		resp, err := fromPodA.Post("http://"+podB+":8080/echo", "application/octet-stream", strings.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil || string(got) != body {
			return fmt.Errorf("%d bytes back, %v", len(got), err)
		}
		return nil
	})
	// Inside the cluster the source is the pod's; out of it, the node's.
	if seen := peerSeen(t, filepath.Join("/var/run/netns", nsB), netnsDialer(nsA), podB); seen != podA {
		t.Errorf("web-b saw web-a's connection from %s, want web-a's own address %s", seen, podA)
	}
	if seen := peerSeen(t, router.NetNSPath(), netnsDialer(nsB), routerB); seen != ipB {
		t.Errorf("the router saw web-b's connection from %s, want %s's address %s (masqueraded)", seen, nameB, ipB)
	}

	agentB.Kill9() // else it registers its Node again
	l.k.ok("", "delete", "pod", "web-b", "--grace-period=0", "--force")
	l.k.ok("", "delete", "node", nameB)
	waitRoutes(t, nodeA, "")
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, "no FDB entry for "+nameB+" on "+nameA, func() error {
		if out, _ := runIn(nodeA, "bridge", "fdb", "show", "dev", "nodeagent.1"); strings.Contains(string(out), macB) {
			return fmt.Errorf("fdb:\n%s", out)
		}
		return nil
	})
	if out, err := runIn(nodeB, framework.Binary(t), append([]string{"agent", "--cleanup"}, dirsB.AgentArgs(nameB)...)...); err != nil {
		t.Fatalf("agent --cleanup on %s: %v\n%s", nameB, err, out)
	}
	waitRoutes(t, nodeB, "")
	if out, err := runIn(nodeB, "ip", "link", "show", "nodeagent.1"); err == nil {
		t.Errorf("agent --cleanup left the VXLAN device on %s:\n%s", nameB, out)
	}
	if out, err := runIn(nodeB, "nft", "list", "table", "inet", "nodeagent-podmasq"); err == nil {
		t.Errorf("agent --cleanup left the masquerade table on %s:\n%s", nameB, out)
	}
}

// routeNodes puts a on 10.77.1.0/24 and b on 10.77.2.0/24, each on a veth
// pair to router (.254 on both), which forwards between them; each node
// routes the other's subnet through the router.
func routeNodes(t *testing.T, router, a, b *lab.Node) {
	t.Helper()
	steps := []struct {
		node *lab.Node
		args []string
	}{
		{router, []string{"ip", "link", "add", "na-a", "type", "veth", "peer", "name", "na-peer", "netns", a.Config().NetNSName()}},
		{router, []string{"ip", "link", "add", "na-b", "type", "veth", "peer", "name", "na-peer", "netns", b.Config().NetNSName()}},
		{router, []string{"ip", "addr", "add", "10.77.1.254/24", "dev", "na-a"}},
		{router, []string{"ip", "addr", "add", "10.77.2.254/24", "dev", "na-b"}},
		{router, []string{"ip", "link", "set", "na-a", "up"}},
		{router, []string{"ip", "link", "set", "na-b", "up"}},
		{router, []string{"sysctl", "-qw", "net.ipv4.ip_forward=1"}},
		{a, []string{"ip", "addr", "add", "10.77.1.1/24", "dev", "na-peer"}},
		{a, []string{"ip", "link", "set", "na-peer", "up"}},
		{a, []string{"ip", "route", "add", "10.77.2.0/24", "via", "10.77.1.254"}},
		{b, []string{"ip", "addr", "add", "10.77.2.1/24", "dev", "na-peer"}},
		{b, []string{"ip", "link", "set", "na-peer", "up"}},
		{b, []string{"ip", "route", "add", "10.77.1.0/24", "via", "10.77.2.254"}},
	}
	for _, s := range steps {
		if out, err := runIn(s.node, s.args[0], s.args[1:]...); err != nil {
			t.Fatalf("%s in %s: %v\n%s", strings.Join(s.args, " "), s.node.Config().Name, err, out)
		}
	}
}

// waitAnnotation waits for node's annotation at path and returns it.
func waitAnnotation(t *testing.T, l *agentLab, node, path string) string {
	t.Helper()
	var v string
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, "node "+node+" publishes its VTEP MAC", func() error {
		if v = l.jsonpath("node/"+node, path); v == "" {
			return fmt.Errorf("no annotation")
		}
		return nil
	})
	return v
}

// wantKernel wants `ip args` in node to print each of wants.
func wantKernel(t *testing.T, node *lab.Node, args []string, wants ...string) {
	t.Helper()
	out, err := runIn(node, "ip", args...)
	for _, w := range wants {
		if err != nil || !strings.Contains(string(out), w) {
			t.Errorf("ip %s in %s: %v, no %q in:\n%s", strings.Join(args, " "), node.Config().Name, err, w, out)
		}
	}
}

// peerSeen listens on addr:9100 inside the network namespace at nsPath,
// connects there with dial, and returns the address the listener saw the
// connection come from.
func peerSeen(t *testing.T, nsPath string, dial func(ctx context.Context, network, addr string) (net.Conn, error), addr string) string {
	t.Helper()
	var ln net.Listener
	if err := nsutil.Do(nsPath, func() (err error) {
		ln, err = net.Listen("tcp", net.JoinHostPort(addr, "9100"))
		return err
	}); err != nil {
		t.Fatalf("listen in %s: %v", nsPath, err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := dial(ctx, "tcp", net.JoinHostPort(addr, "9100"))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	in, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept on %s: %v", addr, err)
	}
	defer in.Close()
	host, _, _ := net.SplitHostPort(in.RemoteAddr().String())
	return host
}
