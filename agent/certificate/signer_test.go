package certificate

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// decision is what the fake signer does with a request.
type decision int

const (
	approve decision = iota
	deny
	fail
)

// fakeSigner is a stateful stand-in for kube-controller-manager's
// csrapproving and csrsigning controllers on a fake clientset: it decides
// each request in turn (the last decision repeats), signs approved ones
// for lifetime from now() with its CA, and records what it saw. It acts on
// a request only once its requester watches (the fake's watches do not
// replay what happened before them).
type fakeSigner struct {
	t        *testing.T
	client   *fake.Clientset
	ca       *x509.Certificate
	caKey    *ecdsa.PrivateKey
	now      func() time.Time
	lifetime time.Duration

	watches atomic.Int32
	// unreachable: creates fail as when the server cannot be reached.
	unreachable atomic.Bool
	mu          sync.Mutex
	plan        []decision
	seen        []*certificatesv1.CertificateSigningRequest
}

func newFakeSigner(t *testing.T, now func() time.Time, lifetime time.Duration, plan ...decision) *fakeSigner {
	t.Helper()
	key, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: now().Add(-time.Hour), NotAfter: now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	s := &fakeSigner{t: t, client: fake.NewClientset(), ca: ca, caKey: key, now: now, lifetime: lifetime, plan: plan}
	s.client.PrependWatchReactor("certificatesigningrequests", func(clienttesting.Action) (bool, watch.Interface, error) {
		s.watches.Add(1)
		return false, nil, nil
	})
	// As the API server: a generated name, and a uid.
	var made atomic.Int32
	s.client.PrependReactor("create", "certificatesigningrequests", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if s.unreachable.Load() {
			return true, nil, errors.New("dial tcp 192.0.2.1:6443: connect: connection refused")
		}
		csr := a.(clienttesting.CreateAction).GetObject().(*certificatesv1.CertificateSigningRequest)
		n := made.Add(1)
		if csr.Name == "" {
			csr.Name = fmt.Sprintf("%s%05d", csr.GenerateName, n)
		}
		csr.UID = types.UID(fmt.Sprintf("uid-%d", n))
		return false, nil, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// run decides the pending requests whose requester watches, until ctx ends.
func (s *fakeSigner) run(ctx context.Context) {
	for ctx.Err() == nil {
		list, err := s.client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range list.Items {
				if csr := &list.Items[i]; len(csr.Status.Conditions) == 0 && int(s.watches.Load()) > s.decided() {
					s.decide(ctx, csr.DeepCopy())
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Millisecond):
		}
	}
}

func (s *fakeSigner) decided() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

func (s *fakeSigner) decide(ctx context.Context, csr *certificatesv1.CertificateSigningRequest) {
	s.mu.Lock()
	d := s.plan[min(len(s.seen), len(s.plan)-1)]
	s.seen = append(s.seen, csr.DeepCopy())
	s.mu.Unlock()
	cond := func(typ certificatesv1.RequestConditionType, reason string) certificatesv1.CertificateSigningRequestCondition {
		return certificatesv1.CertificateSigningRequestCondition{Type: typ, Status: "True", Reason: reason, Message: "by the test"}
	}
	switch d {
	case deny:
		csr.Status.Conditions = append(csr.Status.Conditions, cond(certificatesv1.CertificateDenied, "TestDenied"))
	case fail:
		csr.Status.Conditions = append(csr.Status.Conditions, cond(certificatesv1.CertificateApproved, "AutoApproved"), cond(certificatesv1.CertificateFailed, "SignerValidationFailure"))
	default:
		csr.Status.Conditions = append(csr.Status.Conditions, cond(certificatesv1.CertificateApproved, "AutoApproved"))
		csr.Status.Certificate = s.sign(csr)
	}
	if _, err := s.client.CertificatesV1().CertificateSigningRequests().UpdateStatus(ctx, csr, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
		s.t.Errorf("fake signer: %v", err)
	}
}

func (s *fakeSigner) sign(csr *certificatesv1.CertificateSigningRequest) []byte {
	block, _ := pem.Decode(csr.Spec.Request)
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		s.t.Errorf("fake signer: %v", err)
		return nil
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	now := s.now()
	ext := x509.ExtKeyUsageClientAuth
	if csr.Spec.SignerName == ServingSignerName {
		ext = x509.ExtKeyUsageServerAuth
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: req.Subject, NotBefore: now, NotAfter: now.Add(s.lifetime),
		DNSNames: req.DNSNames, IPAddresses: req.IPAddresses, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{ext}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, req.PublicKey, s.caKey)
	if err != nil {
		s.t.Errorf("fake signer: %v", err)
		return nil
	}
	return pemBlock("CERTIFICATE", der)
}

// requests are the requests the signer decided.
func (s *fakeSigner) requests() []*certificatesv1.CertificateSigningRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*certificatesv1.CertificateSigningRequest(nil), s.seen...)
}

// selfIssued is a node certificate from the signer's CA for a new key,
// valid from notBefore to notAfter, and its key: PEM.
func (s *fakeSigner) selfIssued(t *testing.T, notBefore, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: nodeSubject("node-a"), NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, key.Public(), s.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("EC PRIVATE KEY", keyDER)
}
