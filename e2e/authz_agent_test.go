//go:build linux && e2e

package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// talkerPod says hello once and then stays: its log is what the agent API
// serves in the matrix below.
const talkerPod = `apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: talker
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "echo hello from talker; exec sleep 3600"]
`

// agentIdentity is a caller of the agent API: a client certificate from the
// server's PKI (pki/<cert>.crt and .key; "" none) and/or a bearer token.
type agentIdentity struct {
	name  string
	cert  string
	token string
}

// The identities of the matrix, in the order of its columns.
var agentIdentities = []agentIdentity{
	{name: "anonymous"},
	{name: "bad token", token: "not-a-token"},
	{name: "node a", cert: "nodes/" + nodeName},
	{name: "node b", cert: "nodes/node-b"},
	{name: "admin", cert: "admin"},
	{name: "token user, no groups", token: "nogroups-token"},
	{name: "server's kubelet client", cert: "apiserver-agent-client"},
}

// agentMatrix is what each identity gets from the agent of node a (=
// nodeName): 401 without credentials that hold, 403 unless the API server's
// SubjectAccessReview allows the request (system:masters; the kubelet client
// has system:kubelet-api-admin: nodes/proxy, log, stats, metrics, not
// spec), then what the agent serves (404 for what it does not; 405 for a
// method it does not take).
var agentMatrix = []struct {
	method, path string
	codes        [7]int
}{
	{"GET", "/containerLogs/default/talker/talker", [7]int{401, 401, 403, 403, 200, 403, 200}},
	{"GET", "/containerLogs/default/talker/nope", [7]int{401, 401, 403, 403, 404, 403, 404}},
	{"GET", "/healthz", [7]int{401, 401, 403, 403, 200, 403, 200}},
	{"GET", "/pods", [7]int{401, 401, 403, 403, 404, 403, 404}},
	{"GET", "/stats/summary", [7]int{401, 401, 403, 403, 200, 403, 200}},
	{"POST", "/stats/summary", [7]int{401, 401, 403, 403, 405, 403, 405}},
	{"GET", "/stats/", [7]int{401, 401, 403, 403, 404, 403, 404}},
	{"GET", "/metrics", [7]int{401, 401, 403, 403, 200, 403, 200}},
	{"GET", "/metrics/resource", [7]int{401, 401, 403, 403, 200, 403, 200}},
	{"GET", "/metrics/probes", [7]int{401, 401, 403, 403, 200, 403, 200}},
	{"GET", "/metrics/cadvisor", [7]int{401, 401, 403, 403, 404, 403, 404}},
	{"GET", "/logs/", [7]int{401, 401, 403, 403, 404, 403, 404}},
	{"GET", "/spec/", [7]int{401, 401, 403, 403, 404, 403, 403}},
	// The streams (create for POST, get for GET): what passes the filter
	// meets the endpoint, which wants an upgrade (400 without one).
	{"POST", "/exec/default/talker/talker", [7]int{401, 401, 403, 403, 400, 403, 400}},
	{"POST", "/exec/default/talker/talker?command=true&output=1", [7]int{401, 401, 403, 403, 400, 403, 400}},
	{"GET", "/exec/default/talker/talker?command=true&output=1", [7]int{401, 401, 403, 403, 400, 403, 400}},
	{"POST", "/exec/default/talker/nope?command=true&output=1", [7]int{401, 401, 403, 403, 404, 403, 404}},
	{"POST", "/attach/default/talker/talker?output=1", [7]int{401, 401, 403, 403, 400, 403, 400}},
	{"GET", "/attach/default/talker/talker?output=1", [7]int{401, 401, 403, 403, 400, 403, 400}},
	{"POST", "/portForward/default/talker", [7]int{401, 401, 403, 403, 400, 403, 400}},
	{"GET", "/portForward/default/nope", [7]int{401, 401, 403, 403, 404, 403, 404}},
	{"POST", "/run/default/talker/talker?command=echo&command=ran", [7]int{401, 401, 403, 403, 200, 403, 200}},
	{"GET", "/run/default/talker/talker?command=echo&command=ran", [7]int{401, 401, 403, 403, 405, 403, 405}},
	{"DELETE", "/containerLogs/default/talker/talker", [7]int{401, 401, 403, 403, 405, 403, 405}},
}

// TestAgentAPIAuthorizationMatrix asks the agent API, from inside the lab
// node, every path of the table as every identity, verifying the agent's
// serving certificate against the cluster CA for the node's InternalIP.
func TestAgentAPIAuthorizationMatrix(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokens, []byte("nogroups-token,nobody,2001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := startAgentLab(t, "--token-auth-file", tokens)
	mintNodeKubeconfig(t, l.srv, "node-b")
	l.k.ok(talkerPod, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/talker", "{.status.phase}", "Running")
	base := "https://" + l.jsonpath("node/"+nodeName, "{.status.addresses[?(@.type=='InternalIP')].address}") + ":10250"

	clients := make([]*http.Client, len(agentIdentities))
	for i, id := range agentIdentities {
		clients[i] = l.agentClient(t, id.cert)
	}
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "the talker's log through the agent API", func() error {
		_, body, err := agentRequest(clients[4], "GET", base+agentMatrix[0].path, "")
		if err != nil || !strings.Contains(body, "hello from talker") {
			return fmt.Errorf("%q %v", body, err)
		}
		return nil
	})
	t.Logf("agent API at %s: %d paths x %d identities", base, len(agentMatrix), len(agentIdentities))
	for _, row := range agentMatrix {
		for i, id := range agentIdentities {
			code, body, err := agentRequest(clients[i], row.method, base+row.path, id.token)
			if err != nil || code != row.codes[i] {
				t.Errorf("%s %s as %s: %d %q %v, want %d", row.method, row.path, id.name, code, body, err, row.codes[i])
			}
			if code == http.StatusForbidden && !strings.HasPrefix(body, "Forbidden (user=") {
				t.Errorf("%s %s as %s: 403 %q, want kubelet's Forbidden (user=...) message", row.method, row.path, id.name, body)
			}
		}
	}
	l.checkHealthzPort(t, clients[0])
}

// checkHealthzPort: /healthz alone answers without credentials on
// 127.0.0.1:10248; another address of the node (the CNI bridge's gateway
// 10.244.0.1, where the HTTPS API does answer) is not listened on.
func (l *agentLab) checkHealthzPort(t *testing.T, api *http.Client) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: l.node.DialContext}}
	for path, want := range map[string]int{"/healthz": 200, "/containerLogs/default/talker/talker": 404, "/pods": 404,
		"/metrics": 404, "/stats/summary": 404} {
		if code, body, err := agentRequest(c, "GET", "http://127.0.0.1:10248"+path, ""); err != nil || code != want {
			t.Errorf("healthz port %s: %d %q %v, want %d", path, code, body, err, want)
		}
	}
	const gateway = "10.244.0.1"
	if _, _, err := agentRequest(api, "GET", "https://"+gateway+":10250/healthz", ""); err == nil || !strings.Contains(err.Error(), "x509") {
		t.Errorf("the HTTPS API on %s: %v, want an answer whose certificate is not for that address", gateway, err)
	}
	if _, _, err := agentRequest(c, "GET", "http://"+gateway+":10248/healthz", ""); err == nil {
		t.Errorf("the healthz port answers on %s", gateway)
	}
}

// agentClient dials inside the lab node, trusts the cluster CA only and
// presents pki/<cert> ("" nothing).
func (l *agentLab) agentClient(t *testing.T, cert string) *http.Client {
	t.Helper()
	pki := filepath.Join(l.srv.DataDir, "pki")
	caPEM, err := os.ReadFile(filepath.Join(pki, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	cfg := &tls.Config{RootCAs: roots}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(filepath.Join(pki, cert+".crt"), filepath.Join(pki, cert+".key"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: l.node.DialContext, TLSClientConfig: cfg}}
}

func agentRequest(c *http.Client, method, url, token string) (int, string, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

const twoLinesPod = `apiVersion: v1
kind: Pod
metadata: {name: twolines}
spec:
  restartPolicy: Never
  containers:
  - name: twolines
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "echo one; sleep 4; echo two"]
`

// TestKubectlLogsThroughTheVerifyingProxy: with the server verifying the
// agent's certificate and calling it as its kubelet client, kubectl logs,
// logs -f and logs --previous work, and a container name that is not the
// pod's is refused before anything reaches the agent.
func TestKubectlLogsThroughTheVerifyingProxy(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(twoLinesPod, "apply", "-f", "-")
	l.k.ok(crashPod, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/twolines", "{.status.phase}", "Running")
	if out := l.k.ok("", "logs", "-f", "twolines"); out != "one\ntwo\n" {
		t.Errorf("kubectl logs -f: %q", out)
	}
	framework.Eventually(t, 90*time.Second, 250*time.Millisecond, "crash restarted once", func() error {
		if n := l.jsonpath("pod/crash", "{.status.containerStatuses[0].restartCount}"); n == "" || n == "0" {
			return fmt.Errorf("restartCount %q", n)
		}
		return nil
	})
	if out := l.k.ok("", "logs", "crash", "--previous"); out != "dying\n" {
		t.Errorf("kubectl logs --previous: %q", out)
	}
	if out := l.k.ok("", "logs", "twolines", "--tail", "1"); out != "two\n" {
		t.Errorf("kubectl logs --tail 1: %q", out)
	}
	if errOut := l.k.fails("", "logs", "twolines", "-c", "nope"); !strings.Contains(errOut, "container nope is not valid for pod twolines") {
		t.Errorf("kubectl logs -c nope: %q", errOut)
	}
}

// TestStandaloneAgentServingCertificate: a standalone agent with its
// self-signed certificate is refused by the server (kubectl logs names the
// x509 failure); restarted with a serving certificate from
// `nodeagent kubeconfig node --serving-cert-out`, its logs read.
func TestStandaloneAgentServingCertificate(t *testing.T) {
	l, agent := splitAgentLab(t, "--node-ip", "127.0.0.1")
	l.k.ok(talkerPod, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/talker", "{.status.phase}", "Running")
	errOut := l.k.fails("", "logs", "talker")
	t.Logf("kubectl logs, self-signed agent: %s", errOut)
	if !strings.Contains(errOut, "x509") {
		t.Fatalf("kubectl logs from an agent with a self-signed certificate: %q", errOut)
	}
	agent.Kill9()

	args := append(append([]string{"agent"}, agentCredentials(t, l.srv, nodeName)...), l.dirs.AgentArgs(nodeName)...)
	framework.StartProcess(t, l.node, "agent-with-cert", args...)
	framework.Eventually(t, 60*time.Second, 250*time.Millisecond, "kubectl logs through the restarted agent", func() error {
		out, errOut, err := l.k.run("", "logs", "talker")
		if err != nil || out != "hello from talker\n" {
			return fmt.Errorf("%q %q %v", out, errOut, err)
		}
		return nil
	})
}
