package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nodeagent/nodeagent/agent/apiauth"
	"github.com/nodeagent/nodeagent/certs"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

// apiHarness is node n1's agent API on loopback, its reviews answered by
// apiauth's fakes through the fake clientset, its certificates from ca.
type apiHarness struct {
	t      *testing.T
	ca     *certs.CA
	url    string
	tokens *apiauth.FakeTokenReviews
	sars   *apiauth.FakeAccessReviews
}

func startAPI(t *testing.T, withServingCert bool) *apiHarness {
	t.Helper()
	ca, err := certs.LoadOrCreateCA(t.TempDir(), "cluster-ca")
	if err != nil {
		t.Fatal(err)
	}
	ah := &apiHarness{t: t, ca: ca, tokens: &apiauth.FakeTokenReviews{}, sars: &apiauth.FakeAccessReviews{}}
	h := newUnstartedHarness(t, crifake.New())
	h.a.cfg.ClientCA, h.a.nodeIP = ca.CertPEM, "127.0.0.1"
	if withServingCert {
		dir := t.TempDir()
		if _, err := ca.ServingCertFor(dir, "kubelet", "system:node:n1", []string{"n1"}, []net.IP{net.ParseIP("127.0.0.1")}); err != nil {
			t.Fatal(err)
		}
		h.a.cfg.TLSCertFile, h.a.cfg.TLSPrivateKeyFile = filepath.Join(dir, "kubelet.crt"), filepath.Join(dir, "kubelet.key")
	}
	h.client.PrependReactor("create", "tokenreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		out, err := ah.tokens.Create(h.ctx, action.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview), createOpts)
		return true, out, err
	})
	h.client.PrependReactor("create", "subjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		out, err := ah.sars.Create(h.ctx, action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview), createOpts)
		return true, out, err
	})
	srv, err := h.a.apiServer()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeTLS(l, "", "")
	t.Cleanup(func() { srv.Close() })
	ah.url = "https://" + l.Addr().String()
	return ah
}

// get asks as user in groups (a client certificate from ca; "" none), or
// with a bearer token, verifying the agent's certificate against ca.
func (ah *apiHarness) get(user string, groups []string, token, path string) (int, string, error) {
	ah.t.Helper()
	return ah.do("GET", user, groups, token, path)
}

func (ah *apiHarness) do(method, user string, groups []string, token, path string) (int, string, error) {
	ah.t.Helper()
	cfg := &tls.Config{RootCAs: ah.ca.CertPool()}
	if user != "" {
		kp, err := ah.ca.ClientCert(ah.t.TempDir(), "client", user, groups)
		if err != nil {
			ah.t.Fatal(err)
		}
		cert, _ := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
		cfg.Certificates = []tls.Certificate{cert}
	}
	req, _ := http.NewRequest(method, ah.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

// Every request to the agent API is authenticated and authorized: nobody
// without credentials, and no node (node b on node a's logs, or node a on
// its own), gets past the filter; the kubelet client and admins do.
func TestAgentAPIAuthenticatesAndAuthorizesEveryRequest(t *testing.T) {
	ah := startAPI(t, true)
	ah.sars.Allow("kube-apiserver-kubelet-client", "*", "*", "n1")
	ah.sars.Allow("kubernetes-admin", "*", "*", "n1")
	ah.tokens.SetToken("bob-token", &authenticationv1.UserInfo{Username: "bob"})
	const logs = "/containerLogs/default/web/c"
	cases := []struct {
		name, user string
		groups     []string
		token      string
		path       string
		code       int
		body       string
	}{
		{"anonymous", "", nil, "", "/healthz", 401, "Unauthorized"},
		{"anonymous", "", nil, "", logs, 401, "Unauthorized"},
		{"bad token", "", nil, "nope", logs, 401, "Unauthorized"},
		{"node b", "system:node:n2", []string{"system:nodes"}, "", logs, 403, "Forbidden (user=system:node:n2, verb=get, resource=nodes, subresource=proxy)"},
		{"node a itself", "system:node:n1", []string{"system:nodes"}, "", logs, 403, "Forbidden (user=system:node:n1, verb=get, resource=nodes, subresource=proxy)"},
		{"token user", "", nil, "bob-token", "/healthz", 403, "Forbidden (user=bob, verb=get, resource=nodes, subresource=proxy)"},
		{"kubelet client", "kube-apiserver-kubelet-client", nil, "", "/healthz", 200, "ok"},
		{"kubelet client", "kube-apiserver-kubelet-client", nil, "", logs, 404, `container "c" in pod default/web not found`},
		{"admin", "kubernetes-admin", []string{"system:masters"}, "", "/healthz", 200, "ok"},
		{"admin", "kubernetes-admin", []string{"system:masters"}, "", "/pods", 404, "404 page not found"},
	}
	for _, c := range cases {
		code, body, err := ah.get(c.user, c.groups, c.token, c.path)
		if err != nil || code != c.code || body != c.body {
			t.Errorf("%s GET %s: %d %q %v, want %d %q", c.name, c.path, code, body, err, c.code, c.body)
		}
	}
}

// The serving certificate comes from --tls-cert-file; without one the agent
// serves a self-signed certificate that a client trusting the cluster CA
// (the API server) refuses.
func TestAgentServingCertificate(t *testing.T) {
	if _, _, err := startAPI(t, true).get("", nil, "", "/healthz"); err != nil {
		t.Fatalf("the cluster-issued serving certificate does not verify: %v", err)
	}
	_, _, err := startAPI(t, false).get("", nil, "", "/healthz")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("self-signed serving certificate: %v, want x509 unknown authority", err)
	}
}

func TestHealthzPortServesOnlyHealthz(t *testing.T) {
	if c := DefaultConfig(); c.HealthzBindAddress != "127.0.0.1" || c.HealthzPort != 10248 {
		t.Fatalf("healthz defaults: %s:%d", c.HealthzBindAddress, c.HealthzPort)
	}
	h := healthzHandler(nil, slog.New(slog.DiscardHandler))
	for path, want := range map[string]int{"/healthz": 200, "/containerLogs/default/web/c": 404, "/pods": 404, "/": 404,
		"/metrics": 404, "/stats/summary": 404} {
		rec := httptestRecorder(h, "GET", path)
		if rec != want {
			t.Errorf("GET %s: %d, want %d", path, rec, want)
		}
	}
	if got := httptestRecorder(h, "POST", "/healthz"); got != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz: %d", got)
	}
}

var createOpts = metav1.CreateOptions{}

func httptestRecorder(h http.Handler, method, path string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code
}

// Only GET reaches the handlers (HEAD too); other methods are 405 once
// authorized.
func TestAgentAPIMethods(t *testing.T) {
	ah := startAPI(t, true)
	ah.sars.Allow("kubernetes-admin", "*", "*", "n1")
	kp, err := ah.ca.ClientCert(t.TempDir(), "admin", "kubernetes-admin", []string{"system:masters"})
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ah.ca.CertPool(), Certificates: []tls.Certificate{cert}}}}
	for _, m := range []string{"DELETE", "POST", "PUT"} {
		req, _ := http.NewRequest(m, ah.url+"/containerLogs/default/web/c", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d", m, resp.StatusCode)
		}
	}
}

// The streaming endpoints are behind the same filter: nodes/proxy, verb
// create for POST (SPDY) and get for GET (WebSocket), as kubelet asks.
// Nobody without credentials and no node gets through; the kubelet client
// does (and then meets the endpoint's own answer).
func TestStreamingEndpointsAreAuthorized(t *testing.T) {
	ah := startAPI(t, true)
	ah.sars.Allow("kube-apiserver-kubelet-client", "*", "*", "n1")
	ah.tokens.SetToken("bob-token", &authenticationv1.UserInfo{Username: "bob"})
	node := []string{"system:nodes"}
	for _, c := range []struct {
		method, path, user string
		groups             []string
		token              string
		code               int
		body               string
	}{
		{"POST", "/exec/default/web/c?command=id&output=1", "", nil, "", 401, "Unauthorized"},
		{"GET", "/attach/default/web/c?output=1", "", nil, "nope", 401, "Unauthorized"},
		{"POST", "/portForward/default/web", "", nil, "", 401, "Unauthorized"},
		{"POST", "/run/default/web/c?command=id", "", nil, "", 401, "Unauthorized"},
		{"POST", "/exec/default/web/c?command=id&output=1", "system:node:n1", node, "", 403,
			"Forbidden (user=system:node:n1, verb=create, resource=nodes, subresource=proxy)"},
		{"GET", "/exec/default/web/c?command=id&output=1", "system:node:n2", node, "", 403,
			"Forbidden (user=system:node:n2, verb=get, resource=nodes, subresource=proxy)"},
		{"POST", "/portForward/default/web", "", nil, "bob-token", 403,
			"Forbidden (user=bob, verb=create, resource=nodes, subresource=proxy)"},
		{"POST", "/exec/default/web/c?command=id&output=1", "kube-apiserver-kubelet-client", nil, "", 404,
			`container "c" in pod default/web not found`},
		{"POST", "/portForward/default/web", "kube-apiserver-kubelet-client", nil, "", 404,
			"pod default/web has no running sandbox on this node"},
	} {
		code, body, err := ah.do(c.method, c.user, c.groups, c.token, c.path)
		if err != nil || code != c.code || body != c.body {
			t.Errorf("%s %s as %q: %d %q %v, want %d %q", c.method, c.path, c.user+c.token, code, body, err, c.code, c.body)
		}
	}
	asked := false
	for _, spec := range ah.sars.Specs() {
		ra := spec.ResourceAttributes
		asked = asked || (spec.User == "kube-apiserver-kubelet-client" && ra.Verb == "create" && ra.Resource == "nodes" &&
			ra.Subresource == "proxy" && ra.Name == "n1")
	}
	if !asked {
		t.Errorf("no review asked whether the kubelet client may create nodes/proxy of n1: %+v", ah.sars.Specs())
	}
}
