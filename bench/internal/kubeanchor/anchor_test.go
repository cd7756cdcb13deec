package kubeanchor

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// TestKubePKIAuthenticatesTheBenchAsMaster checks the anchor's PKI end to
// end over TLS: a server with the serving certificate that demands a
// client certificate from the CA accepts the admin kubeconfig's client, and
// sees system:masters in it; a client without the certificate is refused.
func TestKubePKIAuthenticatesTheBenchAsMaster(t *testing.T) {
	p := PKI{Dir: t.TempDir()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePKI(p, "https://"+l.Addr().String()); err != nil {
		l.Close()
		t.Fatal(err)
	}
	serving, err := tls.LoadX509KeyPair(p.ServingCert(), p.ServingKey())
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(p.CACert())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.TLS.PeerCertificates[0]
		w.Write([]byte(c.Subject.CommonName + "/" + strings.Join(c.Subject.Organization, ",")))
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	ts.Listener.Close()
	ts.Listener = l
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{serving}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	ts.StartTLS()
	defer ts.Close()

	cfg, err := RESTConfig(p.Kubeconfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(cfg.Host)
	if err != nil {
		t.Fatalf("the admin kubeconfig's client: %v", err)
	}
	body := make([]byte, 100)
	n, _ := resp.Body.Read(body)
	resp.Body.Close()
	if got := string(body[:n]); got != AdminUser+"/"+AdminGroup {
		t.Errorf("the server saw %q, want %s/%s", got, AdminUser, AdminGroup)
	}

	bare := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer bare.CloseIdleConnections()
	if resp, err := bare.Get(cfg.Host); err == nil {
		resp.Body.Close()
		t.Error("a client without the certificate was served")
	}
}

func TestKubePKISigningKey(t *testing.T) {
	p := PKI{Dir: t.TempDir()}
	if err := WritePKI(p, "https://127.0.0.1:6443"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p.saKey())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("sa.key mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(p.saKey())
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		t.Fatalf("sa.key is not a PEM private key: %q", data)
	}
	key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("sa.key holds a %T, want an ECDSA key", key)
	}
	data, _ = os.ReadFile(p.saPub())
	if b, _ = pem.Decode(data); b == nil || b.Type != "PUBLIC KEY" {
		t.Fatalf("sa.pub is not a PEM public key: %q", data)
	}
	pub, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.PublicKey.Equal(pub) {
		t.Error("sa.pub is not sa.key's public half")
	}
}

func TestRESTConfigRefusesNonLoopback(t *testing.T) {
	p := PKI{Dir: t.TempDir()}
	if err := WritePKI(p, "https://192.0.2.1:6443"); err != nil {
		t.Fatal(err)
	}
	if _, err := RESTConfig(p.Kubeconfig(), nil); err == nil || !strings.Contains(err.Error(), "not on loopback") {
		t.Errorf("got %v, want a refusal of a non-loopback server", err)
	}
}

// TestAnchorArgsListenOnLoopbackOnly checks every URL and address the
// anchor's processes are told to listen on or advertise.
func TestAnchorArgsListenOnLoopbackOnly(t *testing.T) {
	args := append(etcdArgs("/d", 2379, 2380), kubeAPIServerArgs("/d", PKI{Dir: "/d/pki"}, 6443, 2379)...)
	for _, a := range args {
		name, value, _ := strings.Cut(a, "=")
		if strings.Contains(name, "url") || strings.Contains(name, "address") || name == "--etcd-servers" || name == "--initial-cluster" {
			for _, u := range strings.Split(value, ",") {
				if !strings.Contains(u, "127.0.0.1:") && u != "127.0.0.1" {
					t.Errorf("%s: %q is not on 127.0.0.1", name, u)
				}
			}
		}
	}
	for _, want := range []string{"--bind-address=127.0.0.1", "--listen-client-urls=http://127.0.0.1:2379", "--listen-peer-urls=http://127.0.0.1:2380", "--anonymous-auth=false", "--authorization-mode=RBAC"} {
		if !slices.Contains(args, want) {
			t.Errorf("missing %s in %q", want, args)
		}
	}
	for _, a := range args {
		if strings.HasPrefix(a, "--listen-metrics-urls") || strings.HasPrefix(a, "--insecure") {
			t.Errorf("unexpected listener %s", a)
		}
	}
}

// TestStartCleansUpWhenEtcdDies starts the anchor with an "etcd" that
// exits at once: the start fails, says why, and leaves no directory.
func TestStartCleansUpWhenEtcdDies(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	bin := filepath.Join(t.TempDir(), "etcd")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho no etcd here >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Bins{APIServer: bin, Etcd: bin}, Options{})
	if err == nil || !strings.Contains(err.Error(), "etcd exited before it was ready") || !strings.Contains(err.Error(), "no etcd here") {
		t.Errorf("got %v, want etcd's early exit with its log", err)
	}
	left, _ := os.ReadDir(tmp)
	if len(left) != 0 {
		t.Errorf("left behind in TMPDIR: %v", left)
	}
}

// TestClientKubeconfigNamesTheUserAlone checks that a client kubeconfig's
// certificate, signed by the anchor CA, names its user and no group (not
// system:masters).
func TestClientKubeconfigNamesTheUserAlone(t *testing.T) {
	p := PKI{Dir: t.TempDir()}
	if err := WritePKI(p, "https://127.0.0.1:6443"); err != nil {
		t.Fatal(err)
	}
	path, err := p.ClientKubeconfig("kube-proxy", "https://127.0.0.1:6443", "system:kube-proxy")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := RESTConfig(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(cfg.CertData)
	if b == nil {
		t.Fatalf("no client certificate in %s", path)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "system:kube-proxy" || len(cert.Subject.Organization) != 0 {
		t.Errorf("subject %v, want CN=system:kube-proxy and no organization", cert.Subject)
	}
	caPEM, _ := os.ReadFile(p.CACert())
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("not a client certificate of the anchor CA: %v", err)
	}
}
