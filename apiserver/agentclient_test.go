package apiserver

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/certs"
)

// fakeAgent is a node agent's HTTPS API on loopback that records what the
// server sends it.
type fakeAgent struct {
	srv   *httptest.Server
	mu    sync.Mutex
	paths []string // escaped path ? query
	peers []*x509.Certificate
	conns atomic.Int32
	reply http.HandlerFunc
}

// startFakeAgent serves with a certificate from the server's CA for the
// given IPs (nil: httptest's own certificate, which no cluster CA signed).
func startFakeAgent(t *testing.T, ts *testServer, ips []net.IP) *fakeAgent {
	t.Helper()
	return startFakeAgentCA(t, ts.srv.ca, ips)
}

func startFakeAgentCA(t *testing.T, ca *certs.CA, ips []net.IP) *fakeAgent {
	t.Helper()
	a := &fakeAgent{reply: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("line 1\nline 2\n")) }}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	a.srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	if ips != nil {
		kp, err := ca.ServingCert(t.TempDir(), "agent", []string{"n1"}, ips)
		if err != nil {
			t.Fatal(err)
		}
		a.srv.TLS.Certificates = []tls.Certificate{mustPair(kp)}
	}
	a.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	a.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			a.conns.Add(1)
		}
	}
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fakeAgent) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.paths = append(a.paths, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
	a.peers = append(a.peers, r.TLS.PeerCertificates[0])
	a.mu.Unlock()
	a.reply(w, r)
}

func (a *fakeAgent) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.paths...)
}

func (a *fakeAgent) port() int32 { return int32(a.srv.Listener.Addr().(*net.TCPAddr).Port) }

// withNodeAt registers node n1 at 127.0.0.1:port and a pod web (containers
// init and c) bound to it.
func withNodeAt(t *testing.T, ts *testServer, port int32) {
	t.Helper()
	c := ts.admin(t).CoreV1()
	node, err := c.Nodes().Create(bg, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = port
	if _, err := c.Nodes().UpdateStatus(bg, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := testPod("web")
	pod.Spec.NodeName = "n1"
	pod.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "127.0.0.1:5000/nodeagent/testserver:v1"}}
	if _, err := c.Pods("default").Create(bg, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (ts *testServer) logs(t *testing.T, opts *corev1.PodLogOptions) (string, error) {
	t.Helper()
	return readLogs(ts.admin(t).CoreV1().Pods("default").GetLogs("web", opts))
}

// readLogs reads as kubectl logs does (Stream: a failure is a Status).
func readLogs(req *rest.Request) (string, error) {
	rc, err := req.Stream(bg)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	out, err := io.ReadAll(rc)
	return string(out), err
}

func TestPodLogVerifiesTheAgentAndNamesTheKubeletClient(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	agent := startFakeAgent(t, ts, []net.IP{net.ParseIP("127.0.0.1")})
	withNodeAt(t, ts, agent.port())
	out, err := ts.logs(t, &corev1.PodLogOptions{Container: "c"})
	if err != nil || out != "line 1\nline 2\n" {
		t.Fatalf("logs: %q %v", out, err)
	}
	peer := agent.peers[0]
	if peer.Subject.CommonName != "kube-apiserver-kubelet-client" || len(peer.Subject.Organization) != 0 {
		t.Fatalf("the server called the agent as %q in groups %v; want kube-apiserver-kubelet-client in none", peer.Subject.CommonName, peer.Subject.Organization)
	}
}

func TestPodLogRefusesAnAgentCertificateTheCADidNotIssue(t *testing.T) {
	for name, ips := range map[string][]net.IP{"self-signed": nil, "another address": {net.ParseIP("10.0.0.1")}} {
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, t.TempDir(), 0)
			agent := startFakeAgent(t, ts, ips)
			withNodeAt(t, ts, agent.port())
			_, err := ts.logs(t, &corev1.PodLogOptions{Container: "c"})
			if !apierrors.IsServiceUnavailable(err) || !strings.Contains(err.Error(), "x509") {
				t.Fatalf("logs from an agent whose certificate does not verify: %v, want 503 naming the x509 failure", err)
			}
			if got := agent.requests(); len(got) != 0 {
				t.Fatalf("the agent was sent %v", got)
			}
		})
	}
}

// With --kubelet-certificate-authority, that CA and only it signs agents.
func TestPodLogTrustsTheKubeletCertificateAuthority(t *testing.T) {
	other, err := certs.LoadOrCreateCA(t.TempDir(), "kubelet-serving-ca")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "kubelet-ca.crt")
	if err := os.WriteFile(caFile, other.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServerWith(t, t.TempDir(), 0, func(c *Config) { c.KubeletCertificateAuthority = caFile })
	good := startFakeAgentCA(t, other, []net.IP{net.ParseIP("127.0.0.1")})
	withNodeAt(t, ts, good.port())
	if out, err := ts.logs(t, &corev1.PodLogOptions{Container: "c"}); err != nil || out == "" {
		t.Fatalf("agent signed by the kubelet CA: %q %v", out, err)
	}
	clusterSigned := startFakeAgent(t, ts, []net.IP{net.ParseIP("127.0.0.1")})
	node, err := ts.admin(t).CoreV1().Nodes().Get(bg, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = clusterSigned.port()
	if _, err := ts.admin(t).CoreV1().Nodes().UpdateStatus(bg, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.logs(t, &corev1.PodLogOptions{Container: "c"}); !apierrors.IsServiceUnavailable(err) {
		t.Fatalf("agent signed by the cluster CA, not the kubelet CA: %v", err)
	}
}

func TestPodLogDoesNotFollowRedirects(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	elsewhere := startFakeAgent(t, ts, []net.IP{net.ParseIP("127.0.0.1")})
	agent := startFakeAgent(t, ts, []net.IP{net.ParseIP("127.0.0.1")})
	agent.reply = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.srv.URL+"/containerLogs/kube-system/secret-pod/c", http.StatusFound)
	}
	withNodeAt(t, ts, agent.port())
	_, err := ts.logs(t, &corev1.PodLogOptions{Container: "c"})
	if !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), "redirects forbidden") {
		t.Fatalf("logs through a redirecting agent: %v", err)
	}
	if got := elsewhere.requests(); len(got) != 0 {
		t.Fatalf("the server followed the redirect with its credentials: %v", got)
	}
}

func TestPodLogContainerNameAndOptions(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	agent := startFakeAgent(t, ts, []net.IP{net.ParseIP("127.0.0.1")})
	withNodeAt(t, ts, agent.port())
	for _, bad := range []string{"../../healthz", "c/../../x", "C", "nope", "c?x=1"} {
		_, err := ts.logs(t, &corev1.PodLogOptions{Container: bad})
		if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "is not valid for pod web") {
			t.Errorf("container %q: %v, want 400", bad, err)
		}
	}
	if got := agent.requests(); len(got) != 0 {
		t.Fatalf("bad container names reached the agent: %v", got)
	}
	raw := ts.admin(t).CoreV1().RESTClient().Get().Namespace("default").Resource("pods").Name("web").SubResource("log").
		Param("container", "init").Param("tailLines", "2").Param("follow", "true").Param("foo", "bar").
		Param("insecureSkipTLSVerifyBackend", "true")
	if _, err := readLogs(raw); err != nil {
		t.Fatal(err)
	}
	want := "/containerLogs/default/web/init?follow=true&tailLines=2"
	if got := agent.requests(); len(got) != 1 || got[0] != want {
		t.Fatalf("agent was asked %v, want %s", got, want)
	}
}

func TestAgentPathEscapesEachPart(t *testing.T) {
	p, raw := agentPath("containerLogs", "a b", "p%", "x/y")
	if p != "/containerLogs/a b/p%/x/y" || raw != "/containerLogs/a%20b/p%25/x%2Fy" {
		t.Fatalf("agentPath: %q %q", p, raw)
	}
}

// Every logs request uses one Transport: the second reuses the connection.
func TestPodLogSharesOneTransport(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	agent := startFakeAgent(t, ts, []net.IP{net.ParseIP("127.0.0.1")})
	withNodeAt(t, ts, agent.port())
	for i := 0; i < 3; i++ {
		if _, err := ts.logs(t, &corev1.PodLogOptions{Container: "c"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := agent.conns.Load(); n != 1 {
		t.Fatalf("3 logs requests opened %d connections to the agent, want 1", n)
	}
}

// The agent's refusals reach the client as Statuses with its message.
func TestAgentErrorsBecomeStatuses(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	agent := startFakeAgent(t, ts, []net.IP{net.ParseIP("127.0.0.1")})
	withNodeAt(t, ts, agent.port())
	cases := []struct {
		code int
		body string
		is   func(error) bool
	}{
		{http.StatusForbidden, "Forbidden (user=kube-apiserver-kubelet-client, verb=get, resource=nodes, subresource=proxy)", apierrors.IsForbidden},
		{http.StatusNotFound, `container "c" in pod default/web not found`, apierrors.IsNotFound},
		{http.StatusBadRequest, "bad tailLines", apierrors.IsBadRequest},
		{http.StatusUnauthorized, "Unauthorized", apierrors.IsUnauthorized},
	}
	for _, c := range cases {
		agent.reply = func(w http.ResponseWriter, r *http.Request) { http.Error(w, c.body, c.code) }
		_, err := ts.logs(t, &corev1.PodLogOptions{Container: "c"})
		if !c.is(err) || !strings.Contains(err.Error(), c.body) {
			t.Errorf("agent %d %q: client got %v", c.code, c.body, err)
		}
	}
}

// A data dir from before keeps a kubelet-client certificate in
// system:masters: it is replaced, not reused.
func TestOldMastersKubeletClientCertificateIsReplaced(t *testing.T) {
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	ca, err := certs.LoadOrCreateCA(pki, "nodeagent-ca")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.ClientCert(pki, agentClientName, "kube-apiserver-kubelet-client", []string{"system:masters"}); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, dir, 0)
	ts.stop()
	kp, err := tls.X509KeyPair(mustRead(t, filepath.Join(pki, agentClientName+".crt")), mustRead(t, filepath.Join(pki, agentClientName+".key")))
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(kp.Certificate[0])
	if cert.Subject.CommonName != "kube-apiserver-kubelet-client" || len(cert.Subject.Organization) != 0 {
		t.Fatalf("kubelet client certificate: %q in %v", cert.Subject.CommonName, cert.Subject.Organization)
	}
}
