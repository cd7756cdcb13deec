package apiserver

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/nodeagent/nodeagent/certs"
)

func TestNodeServingCertCoversTheNodeAndIsPrivate(t *testing.T) {
	data, out := t.TempDir(), filepath.Join(t.TempDir(), "serving")
	if _, _, err := NodeServingCert(data, out, "n1", []net.IP{net.ParseIP("10.1.2.3")}); err == nil {
		t.Fatal("a node serving certificate was issued with no cluster CA (a new CA was made)")
	}
	if _, err := certs.LoadOrCreateCA(filepath.Join(data, "pki"), "nodeagent-ca"); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := NodeServingCert(data, out, "n1", []net.IP{net.ParseIP("10.1.2.3")})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(data, "pki", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	for _, name := range []string{"10.1.2.3", "n1"} {
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "10.9.9.9"}); err == nil {
		t.Error("the certificate is good for an address it was not issued for")
	}
	if pair.Leaf.Subject.CommonName != "system:node:n1" {
		t.Errorf("CN %q", pair.Leaf.Subject.CommonName)
	}
	for path, want := range map[string]os.FileMode{keyFile: 0o600, out: 0o700 | os.ModeDir} {
		if st, err := os.Stat(path); err != nil || st.Mode() != want {
			t.Errorf("%s: %v %v, want %v", path, st.Mode(), err, want)
		}
	}
	for _, bad := range []string{"../x", "A", ""} {
		if _, _, err := NodeServingCert(data, out, bad, []net.IP{net.ParseIP("10.1.2.3")}); err == nil {
			t.Errorf("node name %q accepted", bad)
		}
	}
	if _, _, err := NodeServingCert(data, out, "n1", nil); err == nil {
		t.Error("no addresses accepted")
	}
}
