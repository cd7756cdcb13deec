//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
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

	var join []string
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, "the server's join command", func() error {
		data, err := os.ReadFile(filepath.Join(srv.DataDir, "join-command"))
		if err == nil {
			join = strings.Fields(string(data))
		}
		return err
	})
	if fi, err := os.Stat(filepath.Join(srv.DataDir, "join-command")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("join-command: %v %v, want mode 0600", fi, err)
	}
	if len(join) != 7 || join[0] != "nodeagent" || join[1] != "join" || join[2] != "https://"+ipA+":6443" {
		t.Fatalf("join command %q", join)
	}
	t.Logf("join command: %s", strings.Join(append(join[:4:4], "<token>", join[5], join[6]), " "))

	dirsB := framework.NewNodeDirs(t, nodeB, nameB)
	creds := t.TempDir()
	joinArgs := func(args []string) []string {
		out := append([]string{"join"}, args...)
		return append(append(out, "--credentials-dir", creds, "--node-ip", ipB), dirsB.AgentArgs(nameB)...)
	}
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
