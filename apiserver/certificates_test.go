package apiserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// csrPEM is a fresh key's certificate request for cn in orgs.
func csrPEM(t *testing.T, cn string, orgs ...string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: orgs}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func nodeClientCSR(t *testing.T, name, node string) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certificatesv1.CertificateSigningRequestSpec{Request: csrPEM(t, "system:node:"+node, "system:nodes"),
			SignerName: "kubernetes.io/kube-apiserver-client-kubelet", Username: "someone-else", Groups: []string{"system:masters"},
			Usages: []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}}}
}

// joinToken stores a bootstrap token Secret and returns the token.
func joinToken(t *testing.T, ts *testServer, id, secret string, expires time.Time, groups string) string {
	t.Helper()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + id, Namespace: "kube-system"},
		Type: "bootstrap.kubernetes.io/token", StringData: map[string]string{"token-id": id, "token-secret": secret,
			"usage-bootstrap-authentication": "true", "expiration": expires.UTC().Format(time.RFC3339), "auth-extra-groups": groups}}
	if _, err := ts.admin(t).CoreV1().Secrets("kube-system").Create(bg, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return id + "." + secret
}

// A join token authenticates as system:bootstrap:<id> and may create and
// read CSRs and nothing else; the server stamps the requester on the CSR;
// the approval subresource sets only the approval and wants "approve" on
// the signer; the status subresource cannot approve; the spec never
// changes; expired and unknown tokens are refused.
func TestJoinTokensAndCertificateSigningRequests(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	token := joinToken(t, ts, "abcdef", "0123456789abcdef", time.Now().Add(time.Hour), JoinTokenGroup)
	joiner := ts.bearer(t, token)
	csrs := joiner.CertificatesV1().CertificateSigningRequests()
	// kubelet names its requests node-csr-<base64url digest>: any path segment goes.
	if _, err := csrs.Create(bg, nodeClientCSR(t, "node-csr-dIGoHoyCV3Kuwi5kl_hv50EH7sSw", "n1"), metav1.CreateOptions{}); err != nil {
		t.Errorf("a kubelet-style name: %v", err)
	}
	created, err := csrs.Create(bg, nodeClientCSR(t, "node-csr-1", "n1"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the join token creates a CSR: %v", err)
	}
	if created.Spec.Username != "system:bootstrap:abcdef" || !strings.Contains(strings.Join(created.Spec.Groups, ","), JoinTokenGroup) ||
		strings.Contains(strings.Join(created.Spec.Groups, ","), "system:masters") {
		t.Errorf("requester: %q %v, want the token's user and groups, not the body's", created.Spec.Username, created.Spec.Groups)
	}
	if _, err := joiner.CoreV1().Secrets("kube-system").List(bg, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the join token lists secrets: %v", err)
	}
	// The status subresource does not approve.
	c := created.DeepCopy()
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "Me"}}
	admin := ts.admin(t).CertificatesV1().CertificateSigningRequests()
	if got, err := admin.UpdateStatus(bg, c, metav1.UpdateOptions{}); err != nil || len(got.Status.Conditions) != 0 {
		t.Errorf("status update approved: %v %+v", err, got.Status)
	}
	// A user who may update the approval subresource but not approve for the signer.
	mustRBAC(t, ts.admin(t), "csr-updater", "certificatesigningrequests/approval")
	updater := ts.impersonating(t, "", rest.ImpersonationConfig{UserName: "csr-updater"}).CertificatesV1().CertificateSigningRequests()
	c, _ = admin.Get(bg, "node-csr-1", metav1.GetOptions{})
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "Me"}}
	if _, err := updater.UpdateApproval(bg, "node-csr-1", c, metav1.UpdateOptions{}); !apierrors.IsForbidden(err) ||
		!strings.Contains(err.Error(), `user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client-kubelet"`) {
		t.Errorf("approval without the signer permission: %v", err)
	}
	c.Spec.Username = "changed"
	got, err := admin.UpdateApproval(bg, "node-csr-1", c, metav1.UpdateOptions{})
	if err != nil || len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Type != certificatesv1.CertificateApproved || got.Spec.Username != "system:bootstrap:abcdef" {
		t.Errorf("admin approval: %v %+v", err, got)
	}
	got.Status.Conditions = nil
	_, err = admin.UpdateApproval(bg, "node-csr-1", got, metav1.UpdateOptions{})
	wantInvalidParts(t, err, `status.conditions: Forbidden: updates may not remove a condition of type "Approved"`)

	bad := nodeClientCSR(t, "bad", "n1")
	bad.Spec.Request, bad.Spec.SignerName, bad.Spec.Usages = []byte("junk"), "", append(bad.Spec.Usages, "digital signature", "juggling")
	_, err = csrs.Create(bg, bad, metav1.CreateOptions{})
	wantInvalidParts(t, err, `spec.request: Invalid value:`, `PEM block type must be CERTIFICATE REQUEST`, `spec.signerName: Required value`,
		`spec.usages[2]: Duplicate value: "digital signature"`, `spec.usages[3]: Unsupported value: "juggling"`)

	expired := joinToken(t, ts, "zzzzzz", "0123456789abcdef", time.Now().Add(-time.Minute), JoinTokenGroup)
	for name, tok := range map[string]string{"expired": expired, "wrong secret": "abcdef.0123456789abcdeX", "unknown id": "qqqqqq.0123456789abcdef"} {
		if _, err := ts.bearer(t, tok).CertificatesV1().CertificateSigningRequests().List(bg, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
			t.Errorf("%s token: %v, want 401", name, err)
		}
	}
}

// mustRBAC gives user update and patch on resource (certificates.k8s.io),
// and waits until the server's RBAC index, which follows storage by a
// watch, grants it: a request sent before that is refused for want of the
// grant, not for what the test is about.
func mustRBAC(t *testing.T, admin kubernetes.Interface, user, resource string) {
	t.Helper()
	rbac := admin.RbacV1()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "update", "patch"}, APIGroups: []string{"certificates.k8s.io"}, Resources: []string{resource}}}}
	if _, err := rbac.ClusterRoles().Create(bg, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
	if _, err := rbac.ClusterRoleBindings().Create(bg, b, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, sub, _ := strings.Cut(resource, "/")
	eventuallyNoErr(t, "the grant to "+user+" takes effect", func() error {
		r, err := admin.AuthorizationV1().SubjectAccessReviews().Create(bg, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "update", Group: "certificates.k8s.io", Resource: res, Subresource: sub}}},
			metav1.CreateOptions{})
		if err != nil {
			return err
		}
		if !r.Status.Allowed {
			return fmt.Errorf("not allowed yet: %s", r.Status.Reason)
		}
		return nil
	})
}
