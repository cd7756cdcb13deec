//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// `nodeagent server` writes the join command; `nodeagent join` run with it
// on a second lab node (a veth pair away) finds the cluster CA by its pin,
// gets the node's client certificate and its proxy's through CSRs the
// server approves and signs, and the node goes Ready with its pod range,
// routes to the other node and a pod running. A wrong pin is refused
// before the token is sent anywhere; a wrong token gets no certificate.
func TestJoinWithToken(t *testing.T) {
	const ipA, ipB = "192.168.78.1", "192.168.78.2"
	l, nodeB := twoLinkedNodes(t, ipA, ipB)
	nodeA, srv, nameB := l.node, l.srv, nodeName+"-j"

	join := joinCommand(t, srv)
	if fi, err := os.Stat(filepath.Join(srv.DataDir, "join-command")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("join-command: %v %v, want mode 0600", fi, err)
	}
	if len(join) != 7 || join[0] != "nodeagent" || join[1] != "join" || join[2] != "https://"+ipA+":6443" {
		t.Fatalf("join command %q", join)
	}
	t.Logf("join command: %s", strings.Join(append(join[:4:4], "<token>", join[5], join[6]), " "))

	dirsB := framework.NewNodeDirs(t, nodeB, nameB)
	creds := t.TempDir()
	joinArgs := joinArgsFor(creds, ipB, nameB, dirsB)
	// A wrong pin: refused at discovery, nothing written.
	bad := append([]string(nil), join[2:]...)
	bad[4] = "sha256:" + strings.Repeat("0", 64)
	if out, err := runIn(nodeB, framework.Binary(t), joinArgs(bad)...); err == nil || !strings.Contains(string(out), "no CA certificate with the pinned hash") {
		t.Fatalf("join with a wrong pin: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(creds); len(entries) != 0 {
		t.Fatalf("a refused join wrote %v", entries)
	}
	// A token the server does not know: no certificate.
	forged := append([]string(nil), join[2:]...)
	forged[2] = "zzzzzz.zzzzzzzzzzzzzzzz"
	if out, err := runIn(nodeB, framework.Binary(t), joinArgs(forged)...); err == nil || !strings.Contains(string(out), "Unauthorized") {
		t.Fatalf("join with an unknown token: %v\n%s", err, out)
	}

	framework.StartProcess(t, nodeB, "join-"+nameB, joinArgs(join[2:])...)
	l.waitFor(t, 90*time.Second, "node/"+nameB, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	l.waitFor(t, 10*time.Second, "node/"+nameB, "{.spec.podCIDR}", "10.244.1.0/24")
	csrs := l.k.ok("", "get", "csr", "-o", "jsonpath={range .items[*]}{.spec.username} {.spec.signerName} {.status.conditions[0].type} {.status.conditions[0].reason}{'\\n'}{end}")
	t.Logf("CSRs:\n%s", csrs)
	for _, want := range []string{"kubernetes.io/kube-apiserver-client-kubelet Approved AutoApproved", "kubernetes.io/kube-apiserver-client Approved AutoApproved",
		"system:node:" + nameB + " kubernetes.io/kubelet-serving Approved AutoApproved"} {
		if !strings.Contains(csrs, want) {
			t.Errorf("no CSR %q", want)
		}
	}
	waitRoutes(t, nodeA, "10.244.1.0/24 via "+ipB)
	waitRoutes(t, nodeB, "10.244.0.0/24 via "+ipA)
	l.k.ok(pinnedBackend("on-b", nameB), "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/on-b", "{.status.conditions[?(@.type=='Ready')].status}", "True")
	podB := l.jsonpath("pod/on-b", "{.status.podIP}")
	l.wantAll(t, l.httpClient(nodeA.DialContext), "http://"+podB+":8080/hostname", []string{"on-b"})
	// The joined agent serves the certificate its CSR got: the server,
	// which verifies agents against the cluster CA, reaches it for logs
	// and exec (a self-signed one fails with "x509: certificate signed
	// by unknown authority").
	if out, errOut, err := l.k.run("", "exec", "on-b", "--", "testserver", "version"); err != nil || strings.TrimSpace(out) != "v1" {
		t.Errorf("kubectl exec on the joined node: %v %q %s", err, out, errOut)
	}
	if _, errOut, err := l.k.run("", "logs", "on-b"); err != nil {
		t.Errorf("kubectl logs on the joined node: %v %s", err, errOut)
	}
}

// joinCommand is the join command the server wrote, as words.
func joinCommand(t *testing.T, srv *framework.APIServer) []string {
	t.Helper()
	var join []string
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, "the server's join command", func() error {
		data, err := os.ReadFile(filepath.Join(srv.DataDir, "join-command"))
		if err == nil {
			join = strings.Fields(string(data))
		}
		return err
	})
	return join
}

// joinArgsFor makes `nodeagent join` arguments of the join command's
// (from the URL on) for node name at ip, keeping its credentials in creds.
func joinArgsFor(creds, ip, name string, dirs framework.NodeDirs) func(args []string) []string {
	return func(args []string) []string {
		out := append([]string{"join"}, args...)
		return append(append(out, "--credentials-dir", creds, "--node-ip", ip), dirs.AgentArgs(name)...)
	}
}

// TestJoinRestartWithTheServerDown: a joined node restarts (the join
// command again, as nodeagent-join.service does) while the server is down.
// It starts from the credentials the first start verified, without CA
// discovery: the agent serves, keeps the pod's container (same ID and
// process) and, once the server is back, renews its Lease and is Ready.
func TestJoinRestartWithTheServerDown(t *testing.T) {
	const ipA, ipB = "192.168.79.1", "192.168.79.2"
	l, nodeB := twoLinkedNodes(t, ipA, ipB)
	nameB := nodeName + "-r"
	dirsB := framework.NewNodeDirs(t, nodeB, nameB)
	joinArgs := joinArgsFor(t.TempDir(), ipB, nameB, dirsB)
	join := framework.StartProcess(t, nodeB, "join-"+nameB, joinArgs(joinCommand(t, l.srv)[2:])...)
	l.waitFor(t, 90*time.Second, "node/"+nameB, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	l.k.ok(pinnedBackend("on-b", nameB), "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/on-b", "{.status.conditions[?(@.type=='Ready')].status}", "True")
	containerID := l.jsonpath("pod/on-b", "{.status.containerStatuses[0].containerID}")
	before := framework.AppContainerPids(t, dirsB.Namespace)

	join.Stop()
	l.srv.Stop()
	logStart := fileSize(t, join.LogPath())
	join.Start()
	// The new process gets as far as the agent's API (port 10250), which
	// the agent serves once its pods' network is set up, and tries the
	// server, which does not answer; it runs on.
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, "the join restarted without the server serves the agent API", func() error {
		if !join.Running() {
			return fmt.Errorf("join exited: %s", logSince(t, join.LogPath(), logStart))
		}
		socks, err := framework.ListeningSockets(join.PID())
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(socks, func(s string) bool { return strings.HasSuffix(s, ":10250") }) {
			return fmt.Errorf("listens on %q", socks)
		}
		if log := logSince(t, join.LogPath(), logStart); !strings.Contains(log, "connection refused") {
			return fmt.Errorf("no failed request to the server yet")
		}
		return nil
	})
	log := logSince(t, join.LogPath(), logStart)
	t.Logf("the join restarted with the server down and serves; its log:\n%s", log)
	if !strings.Contains(log, "no CA discovery") {
		t.Errorf("the restart did not reuse the verified CA:\n%s", log)
	}
	requireSamePids(t, "after the join restart with the server down", before, framework.AppContainerPids(t, dirsB.Namespace))

	back := time.Now()
	l.srv.Start()
	framework.Eventually(t, 90*time.Second, 500*time.Millisecond, "the node's Lease renewed and the node Ready after the server came back", func() error {
		out, _, _ := l.k.run("", "get", "lease", "-n", "kube-node-lease", nameB, "-o", "jsonpath={.spec.renewTime}")
		renew, err := time.Parse(time.RFC3339Nano, out)
		if err != nil || renew.Before(back.Truncate(time.Second)) {
			return fmt.Errorf("lease renewed %v (%v)", renew, err)
		}
		if ready := l.jsonpath("node/"+nameB, "{.status.conditions[?(@.type=='Ready')].status}"); ready != "True" {
			return fmt.Errorf("node Ready=%q", ready)
		}
		return nil
	})
	t.Logf("the server is back: the node's Lease renewed and the node Ready after %s", time.Since(back).Round(time.Second))
	l.waitFor(t, 30*time.Second, "pod/on-b", "{.status.conditions[?(@.type=='Ready')].status}", "True")
	if id := l.jsonpath("pod/on-b", "{.status.containerStatuses[0].containerID}"); id != containerID {
		t.Errorf("container %s, want the one from before the restart, %s", id, containerID)
	}
	if n := l.jsonpath("pod/on-b", "{.status.containerStatuses[0].restartCount}"); n != "0" {
		t.Errorf("restartCount %s, want 0", n)
	}
	requireSamePids(t, "after the server came back", before, framework.AppContainerPids(t, dirsB.Namespace))
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// logSince is the file from offset on.
func logSince(t *testing.T, path string, offset int64) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil || int64(len(data)) < offset {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(data[offset:])
}
