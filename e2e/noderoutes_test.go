//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/internal/nsutil"
	"github.com/nodeagent/nodeagent/lab"
)

// Two lab nodes on one segment (a veth pair, 192.168.77.0/24): the server
// with its agent on the first, a standalone agent on the second, its pod
// range from the server's node IPAM and its proxy and node routes as
// system:kube-proxy. Each node routes the other's pod range through the
// other's address (host-gw), so pods and nodes reach pods on the other
// node, directly and through a Service spanning both; a deleted Node's
// route goes, and `agent --cleanup` removes the routes it made.
func TestPodsReachEachOtherAcrossNodes(t *testing.T) {
	const ipA, ipB = "192.168.77.1", "192.168.77.2"
	l, nodeB := twoLinkedNodes(t, ipA, ipB)
	nodeA, srv, dirsA, nameA, nameB := l.node, l.srv, l.dirs, nodeName, nodeName+"-b"

	dirsB := framework.NewNodeDirs(t, nodeB, nameB)
	argsB := append([]string{"agent"}, remoteAgentCredentials(t, srv, nameB, "https://"+ipA+":6443", ipB)...)
	argsB = append(argsB, dirsB.AgentArgs(nameB)...)
	agentB := framework.StartProcess(t, nodeB, "agent-"+nameB, argsB...)
	l.waitFor(t, 60*time.Second, "node/"+nameB, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	l.waitFor(t, 10*time.Second, "node/"+nameB, "{.spec.podCIDR}", "10.244.1.0/24")

	podA, podB := l.webOnEachNode(t, nameA, nameB)
	t.Logf("web-a %s on %s, web-b %s on %s", podA, nameA, podB, nameB)

	waitRoutes(t, nodeA, "10.244.1.0/24 via "+ipB)
	waitRoutes(t, nodeB, "10.244.0.0/24 via "+ipA)

	fromA, fromB := l.httpClient(nodeA.DialContext), l.httpClient(nodeB.DialContext)
	fromPodA := l.httpClient(netnsDialer(dirsA.NetNSPrefix + l.jsonpath("pod/web-a", "{.metadata.uid}")))
	fromPodB := l.httpClient(netnsDialer(dirsB.NetNSPrefix + l.jsonpath("pod/web-b", "{.metadata.uid}")))
	l.wantAll(t, fromA, "http://"+podB+":8080/hostname", []string{"web-b"})
	l.wantAll(t, fromB, "http://"+podA+":8080/hostname", []string{"web-a"})
	l.wantAll(t, fromPodA, "http://"+podB+":8080/hostname", []string{"web-b"})
	l.wantAll(t, fromPodB, "http://"+podA+":8080/hostname", []string{"web-a"})
	vip := l.jsonpath("svc/web", "{.spec.clusterIP}")
	for _, c := range []*http.Client{fromA, fromB, fromPodA, fromPodB} {
		l.wantAll(t, c, "http://"+vip+"/hostname", []string{"web-a", "web-b"})
	}

	agentB.Kill9() // else it registers its Node again
	l.k.ok("", "delete", "pod", "web-b", "--grace-period=0", "--force")
	l.k.ok("", "delete", "node", nameB)
	waitRoutes(t, nodeA, "")
	if out, err := runIn(nodeB, framework.Binary(t), append([]string{"agent", "--cleanup"}, dirsB.AgentArgs(nameB)...)...); err != nil {
		t.Fatalf("agent --cleanup on %s: %v\n%s", nameB, err, out)
	}
	waitRoutes(t, nodeB, "")
}

// twoLinkedNodes makes two lab nodes on one segment (ipA/24, ipB/24), the
// server and its agent (node nodeName) on the first, its Node Ready, and
// returns the first's lab and the second node.
func twoLinkedNodes(t *testing.T, ipA, ipB string) (*agentLab, *lab.Node) {
	t.Helper()
	requireAgentDeps(t)
	framework.RequireBinaries(t, "ip")
	nodeA, nodeB := framework.NewLab(t), framework.NewLab(t)
	linkNodes(t, nodeA, nodeB, ipA, ipB)
	return startServerNode(t, nodeA, ipA), nodeB
}

// startServerNode starts the server and its agent (node nodeName, with
// extra flags) on lab node n at ip, and waits for its Node to be Ready.
func startServerNode(t *testing.T, n *lab.Node, ip string, extra ...string) *agentLab {
	t.Helper()
	dirs := framework.NewNodeDirs(t, n, nodeName)
	args := append(dirs.AgentArgs(nodeName), "--bind-address", "0.0.0.0", "--advertise-address", ip, "--node-ip", ip)
	srv := framework.StartAPIServer(t, n, append(args, extra...)...)
	l := &agentLab{node: n, srv: srv, dirs: dirs}
	l.k = &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	l.waitFor(t, 60*time.Second, "node/"+nodeName, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	return l
}

// pinnedBackend is backendYAML's pod, named name, bound to node.
func pinnedBackend(name, node string) string {
	return strings.ReplaceAll(strings.ReplaceAll(backendYAML, "NAME", name), "spec:\n", "spec:\n  nodeName: "+node+"\n")
}

// webOnEachNode applies pod web-a on nameA, web-b on nameB and the
// Service web over both, waits until both pods are Ready and returns
// their IPs.
func (l *agentLab) webOnEachNode(t *testing.T, nameA, nameB string) (podA, podB string) {
	t.Helper()
	l.k.ok(pinnedBackend("web-a", nameA)+"---\n"+pinnedBackend("web-b", nameB)+`---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: svc-web}
  ports: [{port: 80, targetPort: 8080}]
`, "apply", "-f", "-")
	for _, p := range []string{"web-a", "web-b"} {
		l.waitFor(t, 90*time.Second, "pod/"+p, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	}
	return l.jsonpath("pod/web-a", "{.status.podIP}"), l.jsonpath("pod/web-b", "{.status.podIP}")
}

// linkNodes joins two lab nodes with a veth pair, ipA/24 and ipB/24.
func linkNodes(t *testing.T, a, b *lab.Node, ipA, ipB string) {
	t.Helper()
	steps := []struct {
		node *lab.Node
		args []string
	}{
		{a, []string{"link", "add", "na-peer", "type", "veth", "peer", "name", "na-peer", "netns", b.Config().NetNSName()}},
		{a, []string{"addr", "add", ipA + "/24", "dev", "na-peer"}},
		{b, []string{"addr", "add", ipB + "/24", "dev", "na-peer"}},
		{a, []string{"link", "set", "na-peer", "up"}},
		{b, []string{"link", "set", "na-peer", "up"}},
	}
	for _, s := range steps {
		if out, err := runIn(s.node, "ip", s.args...); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(s.args, " "), err, out)
		}
	}
}

// waitRoutes waits until the node's routes of protocol 78 (the agent's
// node routes) are want ("" for none).
func waitRoutes(t *testing.T, node *lab.Node, want ...string) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, "node routes "+strings.Join(want, ", ")+" in "+node.Config().Name, func() error {
		b, err := runIn(node, "ip", "-4", "route", "show", "proto", "78")
		out := string(b)
		if err != nil {
			return fmt.Errorf("ip route: %v %s", err, out)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(line); len(f) >= 3 {
				got = append(got, strings.Join(f[:3], " "))
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			return fmt.Errorf("routes %q", out)
		}
		return nil
	})
}

// netnsDialer dials from inside the named network namespace (a pod's).
func netnsDialer(name string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	path := filepath.Join("/var/run/netns", name)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nsutil.DialContext(ctx, path, network, addr)
	}
}

// remoteAgentCredentials mints what an agent on another node needs to
// reach the server at serverURL: a node kubeconfig, a serving certificate
// for nodeIP, and a kubeconfig for its proxy and node routes
// (system:kube-proxy); it returns the flags.
func remoteAgentCredentials(t *testing.T, srv *framework.APIServer, name, serverURL, nodeIP string) []string {
	dir := t.TempDir()
	kc, proxyKC, serving := filepath.Join(dir, name+".kubeconfig"), filepath.Join(dir, "kube-proxy.kubeconfig"), filepath.Join(dir, "serving")
	for _, args := range [][]string{
		{"kubeconfig", "node", name, "--data-dir", srv.DataDir, "--server", serverURL, "--out", kc, "--serving-cert-out", serving, "--node-ip", nodeIP},
		{"kubeconfig", "kube-proxy", "--data-dir", srv.DataDir, "--server", serverURL, "--out", proxyKC},
	} {
		if out, err := exec.Command(framework.Binary(t), args...).CombinedOutput(); err != nil {
			t.Fatalf("nodeagent %s: %v %s", strings.Join(args, " "), err, out)
		}
	}
	return []string{"--kubeconfig", kc, "--proxy-kubeconfig", proxyKC, "--node-ip", nodeIP,
		"--tls-cert-file", filepath.Join(serving, "kubelet.crt"), "--tls-private-key-file", filepath.Join(serving, "kubelet.key")}
}
