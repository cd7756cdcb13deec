//go:build linux && e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/lab"
)

// The pieces of an authorization matrix: the identities (its columns), a
// client for each that talks HTTPS from inside a lab node, and a runner
// that sends each row's request as each identity and compares the status
// codes with the row's. authz_matrix_test.go uses them for the API server;
// a matrix for another HTTPS endpoint (the agent's API) builds its own
// callers with newAuthzCallers and its own rows.

// identity is a caller of the matrix.
type identity int

// The identities, in column order.
const (
	anonymous identity = iota // no credentials at all
	badToken                  // a bearer token the server does not know
	nodeA                     // system:node:a (client certificate, group system:nodes)
	nodeB                     // system:node:b
	admin                     // admin.kubeconfig (system:masters)
	noGroups                  // a static token user in no group
	numIdentities
)

func (i identity) String() string {
	return [...]string{"anonymous", "bad token", "node a", "node b", "admin", "no-groups user"}[i]
}

// codes are the status codes of one request, by identity in column order.
type codes [numIdentities]int

// noGroupsToken is the static token of the no-groups user; authzTokenFile
// writes it for --token-auth-file.
const noGroupsToken = "matrix-no-groups-token"

// authzTokenFile writes the static token file the server is started with.
func authzTokenFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(path, []byte(noGroupsToken+",nobody,uid-nobody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// authzCallers are one HTTP client per identity for the server at base.
type authzCallers struct {
	base    string
	clients [numIdentities]*http.Client
	bearer  [numIdentities]string
}

// newAuthzCallers builds the identities' clients for base (the API server,
// or another endpoint serving a certificate of the cluster CA), dialing
// from inside node and trusting srv's cluster CA: node a and b get client
// certificates from `nodeagent kubeconfig node`, admin the admin
// kubeconfig's.
func newAuthzCallers(t *testing.T, node *lab.Node, srv *framework.APIServer, base string) *authzCallers {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(srv.DataDir, "pki", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	c := &authzCallers{base: base}
	certs := map[identity]tls.Certificate{
		nodeA: kubeconfigCert(t, mintNodeKubeconfig(t, srv, "a")),
		nodeB: kubeconfigCert(t, mintNodeKubeconfig(t, srv, "b")),
		admin: kubeconfigCert(t, srv.Kubeconfig()),
	}
	c.bearer[badToken], c.bearer[noGroups] = "not-a-known-token", noGroupsToken
	for who := range numIdentities {
		cfg := &tls.Config{RootCAs: roots}
		if cert, ok := certs[who]; ok {
			cfg.Certificates = []tls.Certificate{cert}
		}
		c.clients[who] = &http.Client{Timeout: 30 * time.Second,
			Transport: &http.Transport{DialContext: node.DialContext, TLSClientConfig: cfg}}
	}
	t.Cleanup(func() {
		for _, cl := range c.clients {
			cl.CloseIdleConnections()
		}
	})
	return c
}

// kubeconfigCert is the client certificate of a kubeconfig's user.
func kubeconfigCert(t *testing.T, path string) tls.Certificate {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range cfg.AuthInfos {
		cert, err := tls.X509KeyPair(user.ClientCertificateData, user.ClientKeyData)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return cert
	}
	t.Fatalf("%s has no user", path)
	return tls.Certificate{}
}

// authzRequest is one HTTP request of a matrix.
type authzRequest struct {
	method, path, contentType string
	body                      []byte
}

// do sends req as who and returns the status code and the start of the
// body. The body of a successful watch is not waited for.
func (c *authzCallers) do(who identity, req authzRequest) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, req.method, c.base+req.path, bytes.NewReader(req.body))
	if err != nil {
		return 0, "", err
	}
	if req.contentType != "" {
		r.Header.Set("Content-Type", req.contentType)
	}
	r.Header.Set("Accept", "application/json")
	if tok := c.bearer[who]; tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.clients[who].Do(r)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if strings.Contains(req.path, "watch=1") && resp.StatusCode == http.StatusOK {
		return resp.StatusCode, "", nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 600))
	return resp.StatusCode, string(b), nil
}

// getJSON reads path as who, the whole body.
func (c *authzCallers) getJSON(who identity, path string) (int, []byte, error) {
	r, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	r.Header.Set("Accept", "application/json")
	resp, err := c.clients[who].Do(r)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// authzRow is one row of a matrix: a request, built for each identity
// (it may make fixtures first), and the code each identity gets.
type authzRow struct {
	name string
	req  func(who identity) authzRequest
	want codes
}

// runAuthzMatrix sends every row as every identity and reports each code
// that differs from the table, with the server's answer.
func runAuthzMatrix(t *testing.T, c *authzCallers, rows []authzRow) {
	t.Helper()
	for _, row := range rows {
		for who := range numIdentities {
			req := row.req(who)
			code, body, err := c.do(who, req)
			if err != nil {
				t.Errorf("%s as %s (%s %s): %v", row.name, who, req.method, req.path, err)
				continue
			}
			if code != row.want[who] {
				t.Errorf("%s as %s (%s %s): %d, want %d: %s", row.name, who, req.method, req.path, code, row.want[who], oneLine(body))
			}
		}
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// requestTo is a row's request that does not depend on the identity.
func requestTo(method, path string) func(identity) authzRequest {
	return func(identity) authzRequest { return authzRequest{method: method, path: path} }
}
