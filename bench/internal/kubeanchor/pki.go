package kubeanchor

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
	AdminUser  = "nodeagent-bench"
	AdminGroup = "system:masters"
)

// caName is the anchor CA's common name.
const caName = "nodeagent-bench-kube-ca"

// PKI names the files WritePKI makes in its directory.
type PKI struct{ Dir string }

func (p PKI) path(name string) string { return filepath.Join(p.Dir, name) }
func (p PKI) CACert() string          { return p.path("ca.crt") }
func (p PKI) ServingCert() string     { return p.path("apiserver.crt") }
func (p PKI) ServingKey() string      { return p.path("apiserver.key") }
func (p PKI) saKey() string           { return p.path("sa.key") }
func (p PKI) saPub() string           { return p.path("sa.pub") }
func (p PKI) Kubeconfig() string      { return p.path("admin.kubeconfig") }

// WritePKI makes what kube-apiserver needs to run on 127.0.0.1 and the
// bench needs to talk to it: a CA, a serving certificate for 127.0.0.1 and
// localhost, a service-account signing key, and an admin kubeconfig for
// serverURL with a client certificate (AdminUser in AdminGroup).
func WritePKI(p PKI, serverURL string) error {
	ca, err := certs.LoadOrCreateCA(p.Dir, caName)
	if err != nil {
		return fmt.Errorf("anchor CA: %w", err)
	}
	if _, err := ca.ServingCertFor(p.Dir, "apiserver", "kube-apiserver", []string{"localhost"},
		[]net.IP{net.IPv4(127, 0, 0, 1)}); err != nil {
		return fmt.Errorf("anchor serving certificate: %w", err)
	}
	admin, err := ca.ClientCert(p.Dir, "admin", AdminUser, []string{AdminGroup})
	if err != nil {
		return fmt.Errorf("anchor client certificate: %w", err)
	}
	if err := writeSigningKey(p.saKey(), p.saPub()); err != nil {
		return err
	}
	kc := certs.Kubeconfig(serverURL, "admin", ca.CertPEM, admin, "")
	if err := certs.WriteKubeconfig(p.Kubeconfig(), kc); err != nil {
		return fmt.Errorf("anchor kubeconfig: %w", err)
	}
	return nil
}

// ClientKubeconfig writes <name>.kubeconfig for serverURL with a client
// certificate from the anchor CA for user (no groups: RBAC's bindings for
// user are all it gets) and returns its path. WritePKI must have run.
func (p PKI) ClientKubeconfig(name, serverURL, user string) (string, error) {
	ca, err := certs.LoadCA(p.Dir)
	if err != nil {
		return "", fmt.Errorf("anchor CA: %w", err)
	}
	kp, err := ca.ClientCert(p.Dir, name, user, nil)
	if err != nil {
		return "", fmt.Errorf("client certificate for %s: %w", user, err)
	}
	path := p.path(name + ".kubeconfig")
	if err := certs.WriteKubeconfig(path, certs.Kubeconfig(serverURL, name, ca.CertPEM, kp, "")); err != nil {
		return "", fmt.Errorf("kubeconfig for %s: %w", user, err)
	}
	return path, nil
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
