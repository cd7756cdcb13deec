//go:build e2e && compat

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/nodeagent/nodeagent/certs"
)

// controlPlanePKI is what a kubeadm-style control plane runs on, made in
// one directory: a CA, kube-apiserver's serving certificate, a
// service-account signing key, and a kubeconfig for each identity, each a
// client certificate from the CA whose user and groups are the ones kube's
// default RBAC policy (and its Node authorizer) know.
type controlPlanePKI struct {
	dir    string
	server string // https://address:port of kube-apiserver
}

func (p controlPlanePKI) path(name string) string { return filepath.Join(p.dir, name) }
func (p controlPlanePKI) caCert() string          { return p.path("ca.crt") }
func (p controlPlanePKI) servingCert() string     { return p.path("apiserver.crt") }
func (p controlPlanePKI) servingKey() string      { return p.path("apiserver.key") }
func (p controlPlanePKI) saKey() string           { return p.path("sa.key") }
func (p controlPlanePKI) saPub() string           { return p.path("sa.pub") }
func (p controlPlanePKI) kubeletCert() string     { return p.path("kubelet.crt") }
func (p controlPlanePKI) kubeletKey() string      { return p.path("kubelet.key") }
func (p controlPlanePKI) kubeletClientCert() string {
	return p.path("apiserver-kubelet-client.crt")
}
func (p controlPlanePKI) kubeletClientKey() string {
	return p.path("apiserver-kubelet-client.key")
}

// kubeconfig is the path of the kubeconfig identity's.
func (p controlPlanePKI) kubeconfig(identity string) string {
	return p.path(identity + ".kubeconfig")
}

// newControlPlanePKI makes the PKI for a kube-apiserver at addr:6443 that
// pods reach as the kubernetes Service's first address, 10.96.0.1, and
// kubeconfigs for admin (system:masters), the controller manager, the
// scheduler, the node (system:node:node in system:nodes, what the Node
// authorizer and NodeRestriction know a kubelet by) and its proxy
// (system:kube-proxy, bound to system:node-proxier); and the node's serving
// certificate for its API (port 10250) with kube-apiserver's client
// certificate for it (kube-apiserver-kubelet-client), for logs and exec.
func newControlPlanePKI(t *testing.T, addr, node string) controlPlanePKI {
	t.Helper()
	p := controlPlanePKI{dir: t.TempDir(), server: "https://" + net.JoinHostPort(addr, "6443")}
	ca, err := certs.LoadOrCreateCA(p.dir, "compat-kubernetes-ca")
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	ips := []net.IP{net.ParseIP(addr), net.ParseIP("10.96.0.1"), net.IPv4(127, 0, 0, 1)}
	if _, err := ca.ServingCertFor(p.dir, "apiserver", "kube-apiserver", hosts, ips); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.ServingCertFor(p.dir, "kubelet", "system:node:"+node, []string{node}, []net.IP{net.ParseIP(addr)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.ClientCert(p.dir, "apiserver-kubelet-client", "kube-apiserver-kubelet-client", nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range []struct {
		name, user string
		groups     []string
	}{
		{"admin", "compat-admin", []string{"system:masters"}},
		{"controller-manager", "system:kube-controller-manager", nil},
		{"scheduler", "system:kube-scheduler", nil},
		{"node", "system:node:" + node, []string{"system:nodes"}},
		{"kube-proxy", "system:kube-proxy", nil},
	} {
		kp, err := ca.ClientCert(p.dir, id.name, id.user, id.groups)
		if err != nil {
			t.Fatal(err)
		}
		if err := certs.WriteKubeconfig(p.kubeconfig(id.name), certs.Kubeconfig(p.server, id.name, ca.CertPEM, kp, "")); err != nil {
			t.Fatal(err)
		}
	}
	writeServiceAccountKey(t, p.saKey(), p.saPub())
	return p
}

// writeServiceAccountKey writes a new P-256 key (PKCS#8 PEM) and its public
// half (PKIX PEM): kube-apiserver signs service-account tokens with the one
// and verifies them with the other.
func writeServiceAccountKey(t *testing.T, keyPath, pubPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		t.Fatal(err)
	}
}
