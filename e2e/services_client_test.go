//go:build linux && e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// Addresses of the outside client: a host on a network of the node's own,
// outside the cluster CIDR (TEST-NET-1).
const (
	outsideNodeAddr   = "192.0.2.1"
	outsideClientAddr = "192.0.2.2"
	// localExternalIP is the Local Service's external IP; the client
	// routes it through the node.
	localExternalIP = "203.0.113.7"
)

// outsideClient is a network namespace of the lab (removed with it) that
// stands for a client outside the node: a veth pair with
// outsideNodeAddr/24 on the lab node and outsideClientAddr/24 here, and
// routes to the pod CIDR and to localExternalIP through the node. Its
// packets enter the node from a link, as a real client's do (nat
// PREROUTING), unlike the node's own.
type outsideClient struct{ path string }

func (l *agentLab) newOutsideClient(t *testing.T) *outsideClient {
	t.Helper()
	path, err := l.node.NewMemberNetNS("outside")
	if err != nil {
		t.Fatalf("outside client netns: %v", err)
	}
	name := filepath.Base(path)
	for _, args := range [][]string{
		{"link", "add", "na-out0", "type", "veth", "peer", "name", "eth0", "netns", name},
		{"addr", "add", outsideNodeAddr + "/24", "dev", "na-out0"},
		{"link", "set", "na-out0", "up"},
		{"-n", name, "link", "set", "lo", "up"},
		{"-n", name, "addr", "add", outsideClientAddr + "/24", "dev", "eth0"},
		{"-n", name, "link", "set", "eth0", "up"},
		{"-n", name, "route", "add", "10.244.0.0/16", "via", outsideNodeAddr},
		{"-n", name, "route", "add", localExternalIP + "/32", "via", outsideNodeAddr},
	} {
		if out, err := l.runIn("", "ip", args...); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return &outsideClient{path: path}
}

func (c *outsideClient) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return nsutil.DialContext(ctx, c.path, network, addr)
}

// runIn runs a command in the netns at path ("": the lab node's).
func (l *agentLab) runIn(path, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if path == "" {
		err := l.node.Run(cmd)
		return out.String(), err
	}
	if err := nsutil.Do(path, cmd.Start); err != nil {
		return "", err
	}
	err := cmd.Wait()
	return out.String(), err
}

// sourceSeenByBackend opens a TCP connection from the outside client to
// addr, holds it open, and returns the address the backend that took it
// sees as its peer: the one connection on :8080 in the backends' netns
// (ss) that was not there before (masquerade may change the port).
func (l *agentLab) sourceSeenByBackend(t *testing.T, c *outsideClient, addr string, backends []string) string {
	t.Helper()
	l.wantAll(t, l.httpClient(c.DialContext), "http://"+addr+"/hostname", backends) // programmed, every path works
	before := l.backendPeers(t, backends)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := c.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from outside: %v", addr, err)
	}
	defer conn.Close()
	var peer netip.AddrPort
	framework.Eventually(t, 10*time.Second, 100*time.Millisecond, "one backend has the new connection", func() error {
		var fresh []netip.AddrPort
		for p := range l.backendPeers(t, backends) {
			if !before[p] {
				fresh = append(fresh, p)
			}
		}
		if len(fresh) != 1 {
			return fmt.Errorf("new connections on the backends: %v", fresh)
		}
		peer = fresh[0]
		return nil
	})
	t.Logf("%s -> %s: the backend sees %s", conn.LocalAddr(), addr, peer)
	return peer.Addr().String()
}

// backendPeers are the peers of the established TCP connections to port
// 8080 in the backends' netns.
func (l *agentLab) backendPeers(t *testing.T, backends []string) map[netip.AddrPort]bool {
	t.Helper()
	peers := map[netip.AddrPort]bool{}
	for _, b := range backends {
		out, err := l.runIn(l.podNetNS(b), "ss", "-Htn", "state", "established", "( sport = :8080 )")
		if err != nil {
			t.Fatalf("ss in %s: %v: %s", b, err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			p, err := netip.ParseAddrPort(f[len(f)-1]) // 10.0.0.1:80 or [::ffff:10.0.0.1]:80
			if err != nil {
				t.Fatalf("ss in %s: peer %q: %v", b, f[len(f)-1], err)
			}
			peers[netip.AddrPortFrom(p.Addr().Unmap(), p.Port())] = true
		}
	}
	return peers
}

// podNetNS is the path of a pod's network namespace.
func (l *agentLab) podNetNS(pod string) string {
	return filepath.Join("/var/run/netns", l.dirs.NetNSPrefix+l.jsonpath("pod/"+pod, "{.metadata.uid}"))
}

// keepsClientAddress: a client outside the node reaching the Service with
// externalTrafficPolicy Local (its node port and its external IP) is seen
// by the backend with its own address; through the Cluster Service's node
// port it is masqueraded (so the check can tell the two apart).
func (l *agentLab) keepsClientAddress(t *testing.T, backends []string) {
	t.Helper()
	c := l.newOutsideClient(t)
	for _, addr := range []string{nodeAddr + ":30081", localExternalIP + ":80"} {
		if got := l.sourceSeenByBackend(t, c, addr, backends); got != outsideClientAddr {
			t.Errorf("externalTrafficPolicy Local through %s: the backend sees %s, want the client's %s", addr, got, outsideClientAddr)
		}
	}
	if got := l.sourceSeenByBackend(t, c, nodeAddr+":30080", backends); got == outsideClientAddr {
		t.Errorf("externalTrafficPolicy Cluster through %s:30080: the backend sees the client's %s, want it masqueraded", nodeAddr, got)
	}
}
