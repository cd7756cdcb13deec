package certificate

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
)

var servingNames = Names{DNS: []string{"node-a"}, IPs: []net.IP{net.ParseIP("192.0.2.7")}}

// newServingManager is a serving certificate Manager for servingNames on
// the fixture's clock, with its own cert dir.
func newServingManager(t *testing.T, f *rotationFixture, dir string) *Manager {
	t.Helper()
	m, err := NewManager(ManagerConfig{Store: Store{Dir: dir, Prefix: ServingPrefix}, NodeName: "node-a", Clock: f.clock,
		Jitter: func() float64 { return 0.5 }, Names: func() Names { return servingNames }}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A serving manager has no certificate until its request, for the node's
// names from the kubelet-serving signer, is issued; then it serves it and
// keeps it as kubelet-server-current.pem beside (not instead of) the
// client pairs.
func TestServingManagerAsksForTheNodesNames(t *testing.T) {
	f := newRotationFixture(t, approve)
	dir := filepath.Join(t.TempDir(), "pki")
	f.m = newServingManager(t, f, dir)
	if _, err := f.m.GetCertificate(&tls.ClientHelloInfo{}); !errors.Is(err, ErrNoServingCertificate) {
		t.Fatalf("before the request: %v", err)
	}
	f.run(t)
	waitFor(t, "the serving certificate", func() bool { return f.m.Current() != nil })
	reqs := f.signer.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	csr := reqs[0]
	if csr.Spec.SignerName != "kubernetes.io/kubelet-serving" ||
		!slices.Equal(csr.Spec.Usages, []certificatesv1.KeyUsage{"digital signature", "server auth"}) {
		t.Errorf("signer %q usages %v", csr.Spec.SignerName, csr.Spec.Usages)
	}
	req, err := parseRequest(csr)
	if err != nil {
		t.Fatal(err)
	}
	if req.Subject.CommonName != "system:node:node-a" || !slices.Equal(req.DNSNames, []string{"node-a"}) ||
		len(req.IPAddresses) != 1 || !req.IPAddresses[0].Equal(servingNames.IPs[0]) {
		t.Errorf("request subject %v names %v %v", req.Subject, req.DNSNames, req.IPAddresses)
	}
	got, err := f.m.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil || got.Leaf.VerifyHostname("192.0.2.7") != nil {
		t.Fatalf("served %v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "kubelet-server-current.pem")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "kubelet-client-current.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a serving pair written as the client's: %v", err)
	}
	// Restarted, the stored pair is used at once, with no new request.
	m2 := newServingManager(t, f, dir)
	if m2.Current() == nil || !m2.Current().Leaf.Equal(got.Leaf) {
		t.Error("the stored serving pair is not current after a restart")
	}
}

// A stored serving certificate that no longer covers the node's names (its
// address changed) is not served: a new one is asked for.
func TestServingManagerRefusesAStalePair(t *testing.T) {
	f := newRotationFixture(t, approve)
	dir := filepath.Join(t.TempDir(), "pki")
	certPEM, keyPEM := f.signer.selfIssued(t, f.clock.Now(), f.clock.Now().Add(time.Hour)) // no names at all
	if _, err := (Store{Dir: dir, Prefix: ServingPrefix}).Update(certPEM, keyPEM, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.m = newServingManager(t, f, dir)
	if f.m.Current() != nil {
		t.Fatal("a pair without the node's names is current")
	}
	f.run(t)
	waitFor(t, "the new serving certificate", func() bool { return f.m.Current() != nil })
	if !covers(f.m.Current().Leaf, servingNames) {
		t.Errorf("the new certificate is for %v %v", f.m.Current().Leaf.DNSNames, f.m.Current().Leaf.IPAddresses)
	}
}

// A Manager of another identity (the node's proxy) renews that identity's
// certificate: subject system:kube-proxy in no group, the
// kube-apiserver-client signer, client usages, stored under its own
// prefix; the node's own pairs are untouched.
func TestManagerRenewsAnotherIdentity(t *testing.T) {
	f := newRotationFixture(t, approve)
	dir := filepath.Join(t.TempDir(), "pki")
	cfg := f.m.c
	cfg.Store = Store{Dir: dir, Prefix: "kube-proxy-client"}
	cfg.Identity = &Identity{Subject: pkix.Name{CommonName: "system:kube-proxy"}, Signer: certificatesv1.KubeAPIServerClientSignerName, GenerateName: "kube-proxy-csr-"}
	m, err := NewManager(cfg, testLog())
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	f.run(t)
	waitFor(t, "the rotation timer", f.clock.HasWaiters)
	f.clock.Step(80 * time.Second)
	waitFor(t, "the rotation", func() bool { return f.rotated.Load() == 1 })
	reqs := f.signer.requests()
	if len(reqs) != 1 || reqs[0].GenerateName != "kube-proxy-csr-" || reqs[0].Spec.SignerName != "kubernetes.io/kube-apiserver-client" ||
		!slices.Equal(reqs[0].Spec.Usages, []certificatesv1.KeyUsage{"digital signature", "client auth"}) {
		t.Fatalf("requests %+v", reqs)
	}
	req, err := parseRequest(reqs[0])
	if err != nil {
		t.Fatal(err)
	}
	if req.Subject.CommonName != "system:kube-proxy" || len(req.Subject.Organization) != 0 || len(req.DNSNames)+len(req.IPAddresses) != 0 {
		t.Errorf("request subject %v names %v %v", req.Subject, req.DNSNames, req.IPAddresses)
	}
	if f.m.Current().Leaf.Subject.CommonName != "system:kube-proxy" {
		t.Errorf("current certificate is %v's", f.m.Current().Leaf.Subject)
	}
	if _, err := os.Stat(filepath.Join(dir, "kube-proxy-client-current.pem")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "kubelet-client-current.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the proxy's pair written as the node's: %v", err)
	}
}
