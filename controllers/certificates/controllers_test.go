package certificates

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/certs"
)

func request(t *testing.T, tmpl x509.CertificateRequest) []byte {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func csr(t *testing.T, name, requester, signer string, subject pkix.Name, usages ...certificatesv1.KeyUsage) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certificatesv1.CertificateSigningRequestSpec{Request: request(t, x509.CertificateRequest{Subject: subject}),
			SignerName: signer, Username: requester, Usages: usages}}
}

var (
	nodeSubject  = pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}}
	clientUsages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	discard      = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// allowSAR answers SubjectAccessReviews: allowed when allow(sub, user).
func allowSAR(client *fake.Clientset, allow func(sub, user string) bool) *[]string {
	var asked []string
	client.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
		ra := sar.Spec.ResourceAttributes
		asked = append(asked, sar.Spec.User+" "+ra.Verb+" "+ra.Resource+"/"+ra.Subresource)
		sar.Status.Allowed = allow(ra.Subresource, sar.Spec.User)
		return true, sar, nil
	})
	return &asked
}

func approved(t *testing.T, client *fake.Clientset, name string) (bool, string) {
	t.Helper()
	got, err := client.CertificatesV1().CertificateSigningRequests().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got.Status.Conditions {
		if c.Type == certificatesv1.CertificateApproved {
			return true, c.Message
		}
	}
	return false, ""
}

// startedApprover is an approver on client's informers, started and
// synced; they stop when the test ends.
func startedApprover(t *testing.T, client *fake.Clientset) (*Approver, context.Context) {
	t.Helper()
	factory := informers.NewSharedInformerFactory(client, 0)
	a := NewApprover(client, factory, discard, clocktesting.NewFakeClock(time.Now()))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return a, ctx
}

// syncAll has a sync each CSR among objs once.
func syncAll(t *testing.T, ctx context.Context, a *Approver, objs []runtime.Object) {
	t.Helper()
	for _, o := range objs {
		if c, ok := o.(*certificatesv1.CertificateSigningRequest); ok {
			if err := a.sync(ctx, c.Name); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestApproverApprovesWhatTheRequesterMayAskFor(t *testing.T) {
	objs := []runtime.Object{
		csr(t, "join", "system:bootstrap:abcdef", KubeletClientSigner, nodeSubject, clientUsages...),
		csr(t, "renew", "system:node:n1", KubeletClientSigner, nodeSubject, clientUsages...),
		csr(t, "stranger", "mallory", KubeletClientSigner, nodeSubject, clientUsages...),
		csr(t, "server-usage", "system:bootstrap:abcdef", KubeletClientSigner, nodeSubject, certificatesv1.UsageServerAuth, certificatesv1.UsageDigitalSignature),
		csr(t, "admin-cert", "system:bootstrap:abcdef", KubeletClientSigner, pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}}, clientUsages...),
		csr(t, "other-signer", "system:bootstrap:abcdef", ClientSigner, nodeSubject, clientUsages...),
		csr(t, "proxy", "system:bootstrap:abcdef", ClientSigner, pkix.Name{CommonName: "system:kube-proxy"}, clientUsages...),
		csr(t, "proxy-as-master", "system:bootstrap:abcdef", ClientSigner, pkix.Name{CommonName: "system:kube-proxy", Organization: []string{"system:masters"}}, clientUsages...),
		csr(t, "proxy-stranger", "mallory", ClientSigner, pkix.Name{CommonName: "system:kube-proxy"}, clientUsages...),
	}
	client := fake.NewClientset(objs...)
	asked := allowSAR(client, func(sub, user string) bool {
		return (sub == "nodeclient" && user == "system:bootstrap:abcdef") || (sub == "selfnodeclient" && user == "system:node:n1") ||
			(sub == "kubeproxyclient" && user == "system:bootstrap:abcdef")
	})
	a, ctx := startedApprover(t, client)
	syncAll(t, ctx, a, objs)
	want := map[string]string{
		"join":     "Auto approving kubelet client certificate after SubjectAccessReview.",
		"renew":    "Auto approving self kubelet client certificate after SubjectAccessReview.",
		"proxy":    "Auto approving kube-proxy client certificate after SubjectAccessReview.",
		"stranger": "", "server-usage": "", "admin-cert": "", "other-signer": "", "proxy-as-master": "", "proxy-stranger": "",
	}
	for name, msg := range want {
		ok, got := approved(t, client, name)
		if ok != (msg != "") || got != msg {
			t.Errorf("%s: approved %v %q, want %q", name, ok, got, msg)
		}
	}
	if len(*asked) != 5 {
		t.Errorf("reviews asked: %v; want one each for join, renew, stranger, proxy and proxy-stranger", *asked)
	}
}

func TestSignerIssuesApprovedRequestsWithinTheirDuration(t *testing.T) {
	ca, err := certs.LoadOrCreateCA(t.TempDir(), "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	approve := func(c *certificatesv1.CertificateSigningRequest) *certificatesv1.CertificateSigningRequest {
		c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}
		return c
	}
	short := approve(csr(t, "short", "system:node:n1", KubeletClientSigner, nodeSubject, clientUsages...))
	tenMin := int32(600)
	short.Spec.ExpirationSeconds = &tenMin
	serving := approve(csr(t, "serving", "system:node:n1", KubeletServingSigner, nodeSubject, certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth))
	serving.Spec.Request = request(t, x509.CertificateRequest{Subject: nodeSubject, IPAddresses: []net.IP{net.ParseIP("192.0.2.7")}})
	objs := []runtime.Object{
		approve(csr(t, "year", "system:node:n1", KubeletClientSigner, nodeSubject, clientUsages...)), short, serving,
		csr(t, "pending", "system:node:n1", KubeletClientSigner, nodeSubject, clientUsages...),
		approve(csr(t, "bad-subject", "x", KubeletClientSigner, pkix.Name{CommonName: "admin"}, clientUsages...)),
		approve(csr(t, "foreign", "x", "example.com/other", nodeSubject, clientUsages...)),
	}
	client := fake.NewClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	now := time.Now().Truncate(time.Second) // certificates keep whole seconds
	s := NewSigner(client, factory, ca, 0, discard, clocktesting.NewFakeClock(now))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	for _, o := range objs {
		if err := s.sync(ctx, o.(*certificatesv1.CertificateSigningRequest).Name); err != nil {
			t.Fatal(err)
		}
	}
	get := func(name string) *certificatesv1.CertificateSigningRequest {
		c, _ := client.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
		return c
	}
	for name, life := range map[string]time.Duration{"year": DefaultDuration, "short": 10 * time.Minute, "serving": DefaultDuration} {
		block, _ := pem.Decode(get(name).Status.Certificate)
		if block == nil {
			t.Errorf("%s: no certificate", name)
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Errorf("%s: does not verify: %v", name, err)
		}
		if cert.Subject.CommonName != "system:node:n1" || cert.NotAfter.Sub(now) != life || now.Sub(cert.NotBefore) != backdate {
			t.Errorf("%s: %s from %s to %s", name, cert.Subject, cert.NotBefore, cert.NotAfter)
		}
	}
	if len(get("pending").Status.Certificate) > 0 || len(get("foreign").Status.Certificate) > 0 {
		t.Error("signed a pending request or another signer's")
	}
	bad := get("bad-subject")
	if len(bad.Status.Certificate) > 0 || len(bad.Status.Conditions) != 2 || bad.Status.Conditions[1].Type != certificatesv1.CertificateFailed ||
		bad.Status.Conditions[1].Reason != "SignerValidationFailure" {
		t.Errorf("bad subject: %+v", bad.Status)
	}
}
