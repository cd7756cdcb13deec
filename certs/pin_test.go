package certs

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A server presenting its serving certificate and the CA: DiscoverCA finds
// the CA by its pin and checks the serving certificate against it; a wrong
// pin or a chain without the CA is refused.
func TestDiscoverCAByPin(t *testing.T) {
	ca, err := LoadOrCreateCA(t.TempDir(), "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := LoadOrCreateCA(t.TempDir(), "other-ca")
	serving, err := ca.ServingCert(t.TempDir(), "apiserver", nil, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(serving.CertPEM, serving.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	withCA := pair
	withCA.Certificate = append(withCA.Certificate, ca.Cert.Raw)
	serve := func(c tls.Certificate) string {
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{c}}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL
	}
	url := serve(withCA)
	// An impostor: its own serving certificate, the real CA's certificate
	// copied into its chain.
	fake, _ := other.ServingCert(t.TempDir(), "apiserver", nil, []net.IP{net.ParseIP("127.0.0.1")})
	fakePair, _ := tls.X509KeyPair(fake.CertPEM, fake.KeyPEM)
	fakePair.Certificate = append(fakePair.Certificate, ca.Cert.Raw)
	got, err := DiscoverCA(context.Background(), url, PinHash(ca.Cert), nil)
	if err != nil || !got.Equal(ca.Cert) {
		t.Fatalf("DiscoverCA: %v, %v", got, err)
	}
	for name, c := range map[string]struct{ url, pin, want string }{
		"wrong pin":  {url, PinHash(other.Cert), "no CA certificate with the pinned hash"},
		"no CA sent": {serve(pair), PinHash(ca.Cert), "no CA certificate with the pinned hash"},
		"impostor":   {serve(fakePair), PinHash(ca.Cert), "does not verify against the pinned CA"},
		"bad pin":    {url, "sha256:abc", "want sha256:<64 hex digits>"},
		"not https":  {"http://127.0.0.1:1", PinHash(ca.Cert), "want https://HOST:PORT"},
	} {
		if _, err := DiscoverCA(context.Background(), c.url, c.pin, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}
