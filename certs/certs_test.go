package certs

import (
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPKILifecycle(t *testing.T) {
	dir := t.TempDir()
	ca, err := LoadOrCreateCA(dir, "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateCA(dir, "test-ca")
	if err != nil || !again.Cert.Equal(ca.Cert) {
		t.Fatalf("CA not reused: %v", err)
	}
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	srv, err := ca.ServingCert(dir, "serving", []string{"localhost"}, ips)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Cert.Verify(x509.VerifyOptions{Roots: ca.CertPool(), DNSName: "localhost"}); err != nil {
		t.Fatalf("serving cert does not verify for localhost: %v", err)
	}
	same, _ := ca.ServingCert(dir, "serving", []string{"localhost"}, ips)
	if !same.Cert.Equal(srv.Cert) {
		t.Fatal("serving cert reissued although it covers the names")
	}
	more, _ := ca.ServingCert(dir, "serving", []string{"localhost"}, append(ips, net.ParseIP("10.0.0.1")))
	if more.Cert.Equal(srv.Cert) || !covers(more.Cert, nil, []net.IP{net.ParseIP("10.0.0.1")}) {
		t.Fatal("serving cert not reissued for a new address")
	}

	admin, err := ca.ClientCert(dir, "admin", "admin", []string{"system:masters"})
	if err != nil {
		t.Fatal(err)
	}
	if admin.Cert.Subject.CommonName != "admin" || admin.Cert.Subject.Organization[0] != "system:masters" {
		t.Fatalf("subject %v", admin.Cert.Subject)
	}
	if _, err := admin.Cert.Verify(x509.VerifyOptions{Roots: ca.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "admin.key")); st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", st.Mode())
	}

	path := filepath.Join(dir, "admin.kubeconfig")
	if err := WriteKubeconfig(path, Kubeconfig("https://127.0.0.1:6443", "admin", ca.CertPEM, admin, "")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	data, _ := os.ReadFile(path)
	if st.Mode().Perm() != 0o600 || !strings.Contains(string(data), "client-certificate-data:") {
		t.Fatalf("kubeconfig mode %v:\n%s", st.Mode(), data)
	}
}
