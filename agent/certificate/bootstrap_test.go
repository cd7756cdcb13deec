package certificate

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// bootstrapFixture is a node directory with a bootstrap kubeconfig (a
// token) and a fake signer behind the bootstrap client.
type bootstrapFixture struct {
	cfg    BootstrapConfig
	signer *fakeSigner
}

func newBootstrapFixture(t *testing.T, plan ...decision) bootstrapFixture {
	t.Helper()
	dir := t.TempDir()
	boot := filepath.Join(dir, "bootstrap.kubeconfig")
	writeTestKubeconfig(t, boot, &clientcmdapi.AuthInfo{Token: "abcdef.0123456789abcdef"})
	s := newFakeSigner(t, time.Now, time.Hour, plan...)
	return bootstrapFixture{signer: s, cfg: BootstrapConfig{
		Kubeconfig: filepath.Join(dir, "kubelet.kubeconfig"), BootstrapKubeconfig: boot,
		Store: Store{Dir: filepath.Join(dir, "pki")}, NodeName: "node-a", Timeout: 30 * time.Second,
		NewClient: func(*rest.Config) (kubernetes.Interface, error) { return s.client, nil },
	}}
}

func writeTestKubeconfig(t *testing.T, path string, user *clientcmdapi.AuthInfo) {
	t.Helper()
	cfg := clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"c": {Server: "https://192.0.2.1:6443", CertificateAuthorityData: []byte("ca")}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{"u": user},
		Contexts:       map[string]*clientcmdapi.Context{"x": {Cluster: "c", AuthInfo: "u"}},
		CurrentContext: "x",
	}
	if err := clientcmd.WriteToFile(cfg, path); err != nil {
		t.Fatal(err)
	}
}

func testLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// An approved request: the pair is in the cert dir (0700, the pair 0600,
// the current symlink), the kubeconfig names it with the bootstrap
// kubeconfig's server and CA, and the request was kubelet's.
func TestBootstrapIssued(t *testing.T) {
	f := newBootstrapFixture(t, approve)
	if err := Bootstrap(context.Background(), f.cfg, testLog()); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", f.cfg.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	current := f.cfg.Store.CurrentPath()
	if cfg.Host != "https://192.0.2.1:6443" || string(cfg.CAData) != "ca" || cfg.CertFile != current || cfg.KeyFile != current || cfg.BearerToken != "" {
		t.Errorf("written kubeconfig: host %q ca %q cert %q key %q token %q", cfg.Host, cfg.CAData, cfg.CertFile, cfg.KeyFile, cfg.BearerToken)
	}
	pair, err := f.cfg.Store.Current()
	if err != nil {
		t.Fatal(err)
	}
	if cn := pair.Leaf.Subject.CommonName; cn != "system:node:node-a" {
		t.Errorf("certificate CN %q", cn)
	}
	checkMode(t, f.cfg.Store.Dir, 0o700)
	checkMode(t, f.cfg.Kubeconfig, 0o600)
	target, err := os.Readlink(current)
	if err != nil || !strings.HasPrefix(target, "kubelet-client-2") {
		t.Errorf("%s -> %q (%v), want a dated pair", current, target, err)
	}
	checkMode(t, filepath.Join(f.cfg.Store.Dir, target), 0o600)
	if _, err := os.Stat(filepath.Join(f.cfg.Store.Dir, pendingKey)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the bootstrap key is left: %v", err)
	}
	reqs := f.signer.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	checkKubeletRequest(t, reqs[0], "node-a")
	if !strings.HasPrefix(reqs[0].Name, "node-csr-") {
		t.Errorf("request name %q, want node-csr-*", reqs[0].Name)
	}
}

// checkKubeletRequest: signer, usages and subject are kubelet's.
func checkKubeletRequest(t *testing.T, csr *certificatesv1.CertificateSigningRequest, node string) {
	t.Helper()
	if csr.Spec.SignerName != "kubernetes.io/kube-apiserver-client-kubelet" {
		t.Errorf("signer %q", csr.Spec.SignerName)
	}
	if !slices.Equal(csr.Spec.Usages, []certificatesv1.KeyUsage{"digital signature", "client auth"}) {
		t.Errorf("usages %v", csr.Spec.Usages)
	}
	req, err := parseRequest(csr)
	if err != nil {
		t.Fatal(err)
	}
	if req.Subject.CommonName != "system:node:"+node || !slices.Equal(req.Subject.Organization, []string{"system:nodes"}) {
		t.Errorf("subject %v", req.Subject)
	}
	if req.PublicKeyAlgorithm != x509.ECDSA || len(req.DNSNames)+len(req.IPAddresses)+len(req.EmailAddresses) != 0 {
		t.Errorf("request: %v key, SANs %v %v %v", req.PublicKeyAlgorithm, req.DNSNames, req.IPAddresses, req.EmailAddresses)
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), want)
	}
}

// A denied or failed request is an error that says so, and nothing is
// written.
func TestBootstrapDeniedOrFailed(t *testing.T) {
	for _, tc := range []struct {
		d    decision
		want error
		text string
	}{{deny, ErrDenied, "TestDenied"}, {fail, ErrFailed, "SignerValidationFailure"}} {
		f := newBootstrapFixture(t, tc.d)
		err := Bootstrap(context.Background(), f.cfg, testLog())
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("err %v, want %v with %s", err, tc.want, tc.text)
		}
		if _, err := os.Stat(f.cfg.Kubeconfig); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("kubeconfig written after %v: %v", tc.want, err)
		}
	}
}

// No answer: the wait ends at the timeout with an error that says so.
func TestBootstrapTimesOut(t *testing.T) {
	f := newBootstrapFixture(t, approve)
	f.signer.watches.Store(-1000) // the signer never acts
	f.cfg.Timeout = 200 * time.Millisecond
	err := Bootstrap(context.Background(), f.cfg, testLog())
	if err == nil || !strings.Contains(err.Error(), "not issued in time") {
		t.Fatalf("err %v, want not issued in time", err)
	}
	if _, err := os.Stat(filepath.Join(f.cfg.Store.Dir, pendingKey)); err != nil {
		t.Errorf("the pending key should stay for the next try: %v", err)
	}
}

// A kubeconfig with a valid certificate, or none (a token), is the user's:
// no request, the file untouched.
func TestBootstrapLeavesValidKubeconfig(t *testing.T) {
	f := newBootstrapFixture(t, approve)
	certPEM, keyPEM := f.signer.selfIssued(t, time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
	for _, user := range []*clientcmdapi.AuthInfo{{ClientCertificateData: certPEM, ClientKeyData: keyPEM}, {Token: "node-token"}} {
		writeTestKubeconfig(t, f.cfg.Kubeconfig, user)
		before, _ := os.ReadFile(f.cfg.Kubeconfig)
		if err := Bootstrap(context.Background(), f.cfg, testLog()); err != nil {
			t.Fatal(err)
		}
		if after, _ := os.ReadFile(f.cfg.Kubeconfig); string(after) != string(before) {
			t.Errorf("the kubeconfig was rewritten")
		}
	}
	if n := len(f.signer.requests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

// A kubeconfig whose certificate expired is replaced by one for a new
// certificate.
func TestBootstrapReplacesExpired(t *testing.T) {
	f := newBootstrapFixture(t, approve)
	certPEM, keyPEM := f.signer.selfIssued(t, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	writeTestKubeconfig(t, f.cfg.Kubeconfig, &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM})
	if err := Bootstrap(context.Background(), f.cfg, testLog()); err != nil {
		t.Fatal(err)
	}
	if ok, why := kubeconfigValid(f.cfg.Kubeconfig, time.Now()); !ok {
		t.Errorf("kubeconfig after bootstrap: %s", why)
	}
	if n := len(f.signer.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// An agent restarted while it waits finds its request again (the key kept
// in the cert dir, the digested name): one request, then issued.
func TestBootstrapResumesPendingRequest(t *testing.T) {
	f := newBootstrapFixture(t, approve)
	f.signer.watches.Store(-1000) // the signer does not act yet
	f.cfg.Timeout = 200 * time.Millisecond
	if err := Bootstrap(context.Background(), f.cfg, testLog()); err == nil {
		t.Fatal("issued with no signer")
	}
	f.signer.watches.Store(0)
	f.cfg.Timeout = 30 * time.Second
	if err := Bootstrap(context.Background(), f.cfg, testLog()); err != nil {
		t.Fatal(err)
	}
	list, err := f.signer.client.CertificatesV1().CertificateSigningRequests().List(context.Background(), metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("%v requests (%v), want the one", len(list.Items), err)
	}
}

// A request of the same name for another key is not waited on.
func TestBootstrapRefusesAnotherKeysRequest(t *testing.T) {
	f := newBootstrapFixture(t, approve)
	f.signer.watches.Store(-1000)
	f.cfg.Timeout = 200 * time.Millisecond
	_ = Bootstrap(context.Background(), f.cfg, testLog())
	key, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.cfg.Store.Dir, pendingKey), pemBlock("EC PRIVATE KEY", der), 0o600); err != nil {
		t.Fatal(err)
	}
	// The new key's name differs; make the old request carry it.
	name, _ := digestedName(key, "node-a")
	csrs := f.signer.client.CertificatesV1().CertificateSigningRequests()
	list, _ := csrs.List(context.Background(), metav1.ListOptions{})
	old := list.Items[0].DeepCopy()
	old.Name, old.ResourceVersion = name, ""
	if _, err := csrs.Create(context.Background(), old, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = Bootstrap(context.Background(), f.cfg, testLog())
	if err == nil || !strings.Contains(err.Error(), "another key") {
		t.Fatalf("err %v, want another key's request refused", err)
	}
}

// A cert dir others may read is refused, not used nor changed.
func TestBootstrapRefusesOpenCertDir(t *testing.T) {
	f := newBootstrapFixture(t, approve)
	if err := os.Mkdir(f.cfg.Store.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f.cfg.Store.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	err := Bootstrap(context.Background(), f.cfg, testLog())
	if err == nil || !strings.Contains(err.Error(), "others may read") {
		t.Fatalf("err %v, want the open cert dir refused", err)
	}
	checkMode(t, f.cfg.Store.Dir, 0o755)
	if n := len(f.signer.requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

// A missing kubeconfig beside a valid pair in the cert dir (a rotated
// one): the kubeconfig is written for the pair, with no request.
func TestBootstrapUsesValidStoredPair(t *testing.T) {
	f := newBootstrapFixture(t, approve)
	certPEM, keyPEM := f.signer.selfIssued(t, time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
	if _, err := f.cfg.Store.Update(certPEM, keyPEM, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := Bootstrap(context.Background(), f.cfg, testLog()); err != nil {
		t.Fatal(err)
	}
	if ok, why := kubeconfigValid(f.cfg.Kubeconfig, time.Now()); !ok {
		t.Errorf("kubeconfig: %s", why)
	}
	if n := len(f.signer.requests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}
