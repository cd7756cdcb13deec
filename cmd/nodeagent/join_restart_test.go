package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/certs"
	"github.com/nodeagent/nodeagent/controllers/certificates"
)

const testServer = "https://192.0.2.1:6443"

func testCA(t *testing.T) *certs.CA {
	t.Helper()
	ca, err := certs.LoadOrCreateCA(t.TempDir(), "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// joinedDir is a credentials dir as a finished join leaves it: the
// bootstrap kubeconfig for server with ca, and a node kubeconfig.
func joinedDir(t *testing.T, server string, ca *certs.CA, node bool) joinOptions {
	t.Helper()
	o := joinOptions{server: testServer, token: "abcdef.0123456789abcdef", caHash: certs.PinHash(ca.Cert), dir: t.TempDir()}
	if err := certs.WriteKubeconfig(o.path(bootstrapKubeconfigFile), certs.Kubeconfig(server, "tls-bootstrap-token-user", ca.CertPEM, nil, o.token)); err != nil {
		t.Fatal(err)
	}
	if node {
		if err := certs.WriteKubeconfig(o.path(nodeKubeconfigFile), certs.Kubeconfig(server, "node", ca.CertPEM, nil, "node-token")); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// downServer is a discovery that finds the server down, and counts calls.
type downServer struct{ calls int }

func (d *downServer) discover(_ context.Context, server, _ string) (*x509.Certificate, error) {
	d.calls++
	return nil, errors.New("dial tcp " + strings.TrimPrefix(server, "https://") + ": connect: connection refused")
}

func TestJoinRestartTrustsTheCAItVerified(t *testing.T) {
	ca := testCA(t)
	o := joinedDir(t, testServer, ca, true)
	down := &downServer{}
	got, kept, err := joinCA(context.Background(), o, down.discover, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if down.calls != 0 || !got.Equal(ca.Cert) || !kept {
		t.Errorf("discovery calls %d, CA %s, kept %t: want none, the bootstrap kubeconfig's CA, kept (a restart: READY=1 after restartReadyGrace)", down.calls, got.Subject, kept)
	}
	// A first join discovers the CA and keeps nothing: systemd waits for
	// the node to be Ready.
	up := func(context.Context, string, string) (*x509.Certificate, error) { return ca.Cert, nil }
	first := joinOptions{server: testServer, caHash: certs.PinHash(ca.Cert), dir: t.TempDir()}
	if got, kept, err := joinCA(context.Background(), first, up, slog.New(slog.DiscardHandler)); err != nil || !got.Equal(ca.Cert) || kept {
		t.Errorf("a first join: CA %v, kept %t, %v; want the discovered CA, not kept", got, kept, err)
	}
}

func TestJoinRestartDiscoversUnlessTheEarlierJoinMatches(t *testing.T) {
	ca, other := testCA(t), testCA(t)
	cases := []struct {
		name string
		o    func() joinOptions
		want string
	}{
		{"first start", func() joinOptions {
			return joinOptions{server: testServer, caHash: certs.PinHash(ca.Cert), dir: t.TempDir()}
		}, "join https://192.0.2.1:6443: dial tcp 192.0.2.1:6443: connect: connection refused"},
		{"another pin", func() joinOptions {
			o := joinedDir(t, testServer, other, true)
			o.caHash = certs.PinHash(ca.Cert)
			return o
		}, "not reused: " + "ZZ" + " holds CA " + certs.PinHash(other.Cert) + ", not the pinned " + certs.PinHash(ca.Cert)},
		{"another server", func() joinOptions { return joinedDir(t, "https://192.0.2.9:6443", ca, true) }, "is for https://192.0.2.9:6443, not " + testServer},
		{"no node kubeconfig", func() joinOptions { return joinedDir(t, testServer, ca, false) }, "not reused: no node kubeconfig"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := c.o()
			down := &downServer{}
			_, _, err := joinCA(context.Background(), o, down.discover, slog.New(slog.DiscardHandler))
			want := strings.ReplaceAll(c.want, "ZZ", o.path(bootstrapKubeconfigFile))
			if down.calls != 1 || err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), want) {
				t.Fatalf("discovery calls %d, error %v: want one and %q", down.calls, err, want)
			}
			if c.name == "first start" && strings.Contains(err.Error(), "not reused") {
				t.Errorf("a first start speaks of credentials it does not have: %v", err)
			}
		})
	}
}

// proxyKubeconfig writes a system:kube-proxy kubeconfig for testServer
// whose certificate, from ca, is valid until notAfter.
func proxyKubeconfig(t *testing.T, ca *certs.CA, notAfter time.Time) (string, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: certificates.ProxyUser}}, key)
	if err != nil {
		t.Fatal(err)
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := ca.SignRequest(req, x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, notAfter.Add(-48*time.Hour), notAfter)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pair := &certs.KeyPair{CertPEM: certPEM, KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})}
	data := certs.Kubeconfig(testServer, certificates.ProxyUser, ca.CertPEM, pair, "")
	p := t.TempDir() + "/" + proxyKubeconfigFile
	if err := certs.WriteKubeconfig(p, data); err != nil {
		t.Fatal(err)
	}
	return p, data
}

// A restart keeps the proxy's kubeconfig, also when its certificate
// expires within the day or has expired (the agent renews it with the
// node's credentials): it asks nothing of the server, here with a context
// that is already done, so any request would fail.
func TestJoinRestartKeepsTheProxyCredentials(t *testing.T) {
	ca := testCA(t)
	env := &environment{log: slog.New(slog.DiscardHandler)}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for name, notAfter := range map[string]time.Time{"in an hour": time.Now().Add(time.Hour), "expired": time.Now().Add(-time.Hour)} {
		t.Run(name, func(t *testing.T) {
			p, data := proxyKubeconfig(t, ca, notAfter)
			if err := ensureProxyCredentials(done, env, testServer, ca.CertPEM, "abcdef.0123456789abcdef", p); err != nil {
				t.Fatalf("a restart with the server down: %v", err)
			}
			if now, _ := os.ReadFile(p); !bytes.Equal(now, data) {
				t.Errorf("the proxy kubeconfig was rewritten")
			}
		})
	}
	// One for another cluster's CA is replaced: here the request fails.
	p, _ := proxyKubeconfig(t, testCA(t), time.Now().Add(time.Hour))
	if err := ensureProxyCredentials(done, env, testServer, ca.CertPEM, "abcdef.0123456789abcdef", p); err == nil || !strings.Contains(err.Error(), "the proxy's credentials") {
		t.Fatalf("a proxy kubeconfig for another CA: %v, want a new request", err)
	}
}

// TestJoinRefusesAnotherClustersCredentials: a node kubeconfig that trusts
// another CA (the node joined another cluster) stops the join with the
// file named, instead of the agent using it against this cluster; one for
// this CA, or none, lets it go on.
func TestJoinRefusesAnotherClustersCredentials(t *testing.T) {
	ca, other := testCA(t), testCA(t)
	o := joinedDir(t, testServer, other, true)
	err := otherClusterCredentials(o, ca.Cert)
	if err == nil || !strings.Contains(err.Error(), o.path(nodeKubeconfigFile)) || !strings.Contains(err.Error(), "another cluster") {
		t.Errorf("credentials of another cluster: %v", err)
	}
	if err := otherClusterCredentials(joinedDir(t, testServer, ca, true), ca.Cert); err != nil {
		t.Errorf("this cluster's credentials: %v", err)
	}
	if err := otherClusterCredentials(joinedDir(t, testServer, ca, false), ca.Cert); err != nil {
		t.Errorf("no node kubeconfig: %v", err)
	}
}
