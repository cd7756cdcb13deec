package apiauth

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/certs"
)

// harness is node a's API behind a Filter, with fake reviews and a CA
// whose client certificates it trusts.
type harness struct {
	t      *testing.T
	srv    *httptest.Server
	ca     *certs.CA
	tokens *FakeTokenReviews
	sars   *FakeAccessReviews
	clock  *testingclock.FakePassiveClock
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ca, err := certs.LoadOrCreateCA(t.TempDir(), "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ca: ca, tokens: &FakeTokenReviews{}, sars: &FakeAccessReviews{},
		clock: testingclock.NewFakePassiveClock(time.Now())}
	authn := NewAuthenticator(AuthenticatorConfig{ClientCA: ca.CertPool(), Tokens: h.tokens, Clock: h.clock})
	authz := NewAuthorizer(AuthorizerConfig{Reviews: h.sars, Clock: h.clock})
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok "+r.URL.Path) })
	h.srv = httptest.NewUnstartedServer(NewFilter(authn, authz, "a", slog.New(slog.DiscardHandler)).Wrap(next))
	h.srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	h.srv.StartTLS()
	t.Cleanup(h.srv.Close)
	return h
}

// client presents a certificate for user in groups from ca (nil: none).
func (h *harness) client(ca *certs.CA, user string, groups ...string) *http.Client {
	h.t.Helper()
	tr := h.srv.Client().Transport.(*http.Transport).Clone()
	if ca != nil {
		kp, err := ca.ClientCert(h.t.TempDir(), "client", user, groups)
		if err != nil {
			h.t.Fatal(err)
		}
		cert, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
		if err != nil {
			h.t.Fatal(err)
		}
		tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	}
	return &http.Client{Transport: tr}
}

func (h *harness) do(c *http.Client, method, path, token string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

const logsA = "/containerLogs/default/web/c"

func TestNoCredentialsIsUnauthorized(t *testing.T) {
	h := newHarness(t)
	otherCA, err := certs.LoadOrCreateCA(t.TempDir(), "other-ca")
	if err != nil {
		t.Fatal(err)
	}
	h.tokens.SetToken("good", &authenticationv1.UserInfo{Username: "bob"})
	h.sars.Allow("bob", "*", "*", "a")
	for name, c := range map[string]struct {
		client *http.Client
		token  string
	}{
		"anonymous":             {h.client(nil, ""), ""},
		"bad token":             {h.client(nil, ""), "nope"},
		"another CA's cert":     {h.client(otherCA, "admin", "system:masters"), ""},
		"empty common name":     {h.client(h.ca, ""), ""},
		"bearer without token":  {h.client(nil, ""), " "},
		"another CA, bad token": {h.client(otherCA, "admin", "system:masters"), "nope"},
	} {
		for _, path := range []string{logsA, "/healthz", "/pods", "/stats/summary", "/metrics"} {
			if code, body := h.do(c.client, "GET", path, c.token); code != http.StatusUnauthorized || body != "Unauthorized" {
				t.Errorf("%s GET %s: %d %q, want 401 Unauthorized", name, path, code, body)
			}
		}
	}
	if n := h.sars.Calls(); n != 0 {
		t.Fatalf("%d access reviews for unauthenticated requests", n)
	}
	// A certificate that does not verify does not hide a good token.
	if code, _ := h.do(h.client(otherCA, "admin", "system:masters"), "GET", logsA, "good"); code != http.StatusOK {
		t.Fatalf("another CA's cert with a good token: %d", code)
	}
}

func TestNodeBIsForbiddenNodeALogs(t *testing.T) {
	h := newHarness(t)
	h.sars.Allow("kube-apiserver-kubelet-client", "*", "*", "a")
	code, body := h.do(h.client(h.ca, "system:node:b", "system:nodes"), "GET", logsA, "")
	if code != http.StatusForbidden || body != "Forbidden (user=system:node:b, verb=get, resource=nodes, subresource=proxy)" {
		t.Fatalf("node b on node a's logs: %d %q", code, body)
	}
	code, body = h.do(h.client(h.ca, "system:node:a", "system:nodes"), "GET", "/stats/summary", "")
	if code != http.StatusForbidden || body != "Forbidden (user=system:node:a, verb=get, resource=nodes, subresource=stats)" {
		t.Fatalf("node a on its own stats: %d %q", code, body)
	}
	spec := h.sars.Specs()[0]
	want := authorizationv1.ResourceAttributes{Verb: "get", Version: "v1", Resource: "nodes", Subresource: "proxy", Name: "a"}
	if spec.User != "system:node:b" || !slices.Equal(spec.Groups, []string{"system:nodes", "system:authenticated"}) || *spec.ResourceAttributes != want {
		t.Fatalf("review asked: %+v %+v", spec, spec.ResourceAttributes)
	}
}

func TestAllowedUsersReachTheHandler(t *testing.T) {
	h := newHarness(t)
	h.sars.Allow("kube-apiserver-kubelet-client", "*", "*", "a")
	h.sars.Allow("kubernetes-admin", "*", "*", "a")
	h.sars.Allow("olga", "get", "proxy", "a")
	h.tokens.SetToken("olga-token", &authenticationv1.UserInfo{Username: "olga", UID: "7", Groups: []string{"ops"},
		Extra: map[string]authenticationv1.ExtraValue{"scope": {"x"}}})
	for name, c := range map[string]*http.Client{"kubelet client": h.client(h.ca, "kube-apiserver-kubelet-client"),
		"admin": h.client(h.ca, "kubernetes-admin", "system:masters")} {
		if code, body := h.do(c, "GET", logsA, ""); code != http.StatusOK || body != "ok "+logsA {
			t.Errorf("%s: %d %q", name, code, body)
		}
	}
	if code, _ := h.do(h.client(nil, ""), "GET", logsA, "olga-token"); code != http.StatusOK {
		t.Fatalf("olga by token: %d", code)
	}
	last := h.sars.Specs()[len(h.sars.Specs())-1]
	if last.User != "olga" || last.UID != "7" || !slices.Equal(last.Groups, []string{"ops", "system:authenticated"}) || last.Extra["scope"][0] != "x" {
		t.Fatalf("review of a token user: %+v", last)
	}
	if code, body := h.do(h.client(nil, ""), "POST", "/exec/default/web/c", "olga-token"); code != http.StatusForbidden ||
		body != "Forbidden (user=olga, verb=create, resource=nodes, subresource=proxy)" {
		t.Fatalf("olga posts: %d %q", code, body)
	}
}

// Token reviews are reused for 2 minutes, confirmed or not; a failed
// review is not reused.
func TestTokenReviewCache(t *testing.T) {
	h := newHarness(t)
	h.sars.Allow("bob", "*", "*", "a")
	h.tokens.SetToken("good", &authenticationv1.UserInfo{Username: "bob"})
	c := h.client(nil, "")
	for i := 0; i < 3; i++ {
		h.do(c, "GET", logsA, "good")
		h.do(c, "GET", logsA, "bad")
	}
	if n := h.tokens.Calls(); n != 2 {
		t.Fatalf("%d token reviews for 2 tokens within the TTL", n)
	}
	h.tokens.SetToken("good", nil) // revoked: still good until the TTL ends
	h.tokens.SetToken("bad", &authenticationv1.UserInfo{Username: "bob"})
	h.clock.SetTime(h.clock.Now().Add(DefaultTokenCacheTTL - time.Second))
	if code, _ := h.do(c, "GET", logsA, "good"); code != http.StatusOK {
		t.Fatalf("a cached good token: %d", code)
	}
	if code, _ := h.do(c, "GET", logsA, "bad"); code != http.StatusUnauthorized {
		t.Fatalf("a cached bad token: %d", code)
	}
	h.clock.SetTime(h.clock.Now().Add(time.Second))
	if code, _ := h.do(c, "GET", logsA, "good"); code != http.StatusUnauthorized {
		t.Fatalf("a revoked token after the TTL: %d", code)
	}
	if code, _ := h.do(c, "GET", logsA, "bad"); code != http.StatusOK {
		t.Fatalf("a newly good token after the TTL: %d", code)
	}
	h.tokens.Err = errors.New("API server down")
	if code, _ := h.do(c, "GET", logsA, "new"); code != http.StatusUnauthorized {
		t.Fatalf("a token the API server could not review: %d", code)
	}
	h.tokens.Err = nil
	h.tokens.SetToken("new", &authenticationv1.UserInfo{Username: "bob"})
	if code, _ := h.do(c, "GET", logsA, "new"); code != http.StatusOK {
		t.Fatalf("a failed review was cached: %d", code)
	}
}

// Access reviews are reused 5 minutes when allowed, 30 s when not; a failed
// review is a 500 and not reused.
func TestAccessReviewCache(t *testing.T) {
	h := newHarness(t)
	c := h.client(h.ca, "ops")
	h.sars.Allow("ops", "get", "proxy", "a")
	for i := 0; i < 3; i++ {
		h.do(c, "GET", logsA, "")
	}
	if n := h.sars.Calls(); n != 1 {
		t.Fatalf("%d reviews of one allowed request", n)
	}
	h.sars.Revoke("ops", "get", "proxy", "a")
	h.clock.SetTime(h.clock.Now().Add(DefaultAllowCacheTTL - time.Second))
	if code, _ := h.do(c, "GET", logsA, ""); code != http.StatusOK {
		t.Fatalf("revoked, within the allowed TTL: %d", code)
	}
	h.clock.SetTime(h.clock.Now().Add(time.Second))
	if code, _ := h.do(c, "GET", logsA, ""); code != http.StatusForbidden {
		t.Fatalf("revoked, after the allowed TTL: %d", code)
	}
	h.sars.Allow("ops", "get", "proxy", "a")
	h.clock.SetTime(h.clock.Now().Add(DefaultDenyCacheTTL - time.Second))
	if code, _ := h.do(c, "GET", logsA, ""); code != http.StatusForbidden {
		t.Fatalf("granted, within the denied TTL: %d", code)
	}
	h.clock.SetTime(h.clock.Now().Add(time.Second))
	if code, _ := h.do(c, "GET", logsA, ""); code != http.StatusOK {
		t.Fatalf("granted, after the denied TTL: %d", code)
	}
	h.sars.Err = errors.New("API server down")
	code, body := h.do(c, "GET", "/stats/summary", "")
	if code != http.StatusInternalServerError || body != "Authorization error (user=ops, verb=get, resource=nodes, subresource=stats)" {
		t.Fatalf("review failed: %d %q", code, body)
	}
	h.sars.Err = nil
	h.sars.Allow("ops", "get", "stats", "a")
	if code, _ := h.do(c, "GET", "/stats/summary", ""); code != http.StatusOK {
		t.Fatalf("a failed review was cached: %d", code)
	}
}
