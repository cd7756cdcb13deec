package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/nodeagent/nodeagent/certs"
)

// The bench's identity at the anchor kube-apiserver: a client certificate
// in system:masters, which RBAC lets do anything.
const (
	anchorUser  = "nodeagent-bench"
	anchorGroup = "system:masters"
)

// kubePKI names the files writeKubePKI makes in its directory.
type kubePKI struct{ dir string }

func (p kubePKI) path(name string) string { return filepath.Join(p.dir, name) }
func (p kubePKI) caCert() string          { return p.path("ca.crt") }
func (p kubePKI) servingCert() string     { return p.path("apiserver.crt") }
func (p kubePKI) servingKey() string      { return p.path("apiserver.key") }
func (p kubePKI) saKey() string           { return p.path("sa.key") }
func (p kubePKI) saPub() string           { return p.path("sa.pub") }
func (p kubePKI) kubeconfig() string      { return p.path("admin.kubeconfig") }

// writeKubePKI makes what kube-apiserver needs to run on 127.0.0.1 and the
// bench needs to talk to it: a CA, a serving certificate for 127.0.0.1 and
// localhost, a service-account signing key, and an admin kubeconfig for
// serverURL with a client certificate (anchorUser in anchorGroup).
func writeKubePKI(p kubePKI, serverURL string) error {
	ca, err := certs.LoadOrCreateCA(p.dir, "nodeagent-bench-kube-ca")
	if err != nil {
		return fmt.Errorf("anchor CA: %w", err)
	}
	if _, err := ca.ServingCertFor(p.dir, "apiserver", "kube-apiserver", []string{"localhost"},
		[]net.IP{net.IPv4(127, 0, 0, 1)}); err != nil {
		return fmt.Errorf("anchor serving certificate: %w", err)
	}
	admin, err := ca.ClientCert(p.dir, "admin", anchorUser, []string{anchorGroup})
	if err != nil {
		return fmt.Errorf("anchor client certificate: %w", err)
	}
	if err := writeSigningKey(p.saKey(), p.saPub()); err != nil {
		return err
	}
	kc := certs.Kubeconfig(serverURL, "admin", ca.CertPEM, admin, "")
	if err := certs.WriteKubeconfig(p.kubeconfig(), kc); err != nil {
		return fmt.Errorf("anchor kubeconfig: %w", err)
	}
	return nil
}

// writeSigningKey writes a new P-256 key, PKCS#8 PEM, readable by its owner
// only, and its public half (PKIX PEM): kube-apiserver signs
// service-account tokens with the one and verifies them with the other.
func writeSigningKey(keyPath, pubPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("service-account public key: %w", err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		return fmt.Errorf("service-account public key: %w", err)
	}
	return nil
}
