package apiserver

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// bearer is a client that presents token and trusts the server's CA.
func (ts *testServer) bearer(t *testing.T, token string) kubernetes.Interface {
	t.Helper()
	cfg := &rest.Config{Host: "https://127.0.0.1:" + itoa(ts.port), BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: ts.srv.ca.CertPEM}}
	return kubernetes.NewForConfigOrDie(cfg)
}

// getWithToken GETs path with a bearer token.
func getWithToken(t *testing.T, ts *testServer, token, path string) (int, string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ts.srv.caPool}}}
	req, _ := http.NewRequest("GET", "https://127.0.0.1:"+itoa(ts.port)+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// setupTokenFixtures makes node n1, service account web and pod web-0 on
// n1 that runs as web.
func setupTokenFixtures(t *testing.T, ts *testServer) (*corev1.ServiceAccount, *corev1.Pod) {
	t.Helper()
	admin := ts.admin(t)
	if _, err := ts.node(t, "n1").CoreV1().Nodes().Create(bg, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa, err := admin.CoreV1().ServiceAccounts("default").Create(bg, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "web"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := testPod("web-0")
	p.Spec.ServiceAccountName, p.Spec.NodeName = "web", "n1"
	pod, err := admin.CoreV1().Pods("default").Create(bg, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sa, pod
}

func boundTo(pod *corev1.Pod, seconds int64, audiences ...string) *authenticationv1.TokenRequest {
	return &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences, ExpirationSeconds: &seconds,
		BoundObjectRef: &authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}}}
}

// A pod-bound token of a service account authenticates to the API as the
// service account (which may do nothing beyond discovery here), a
// TokenReview tells its pod and node, and it stops working once its pod
// is gone.
func TestTokenRequestBoundToAPod(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	admin := ts.admin(t)
	sa, pod := setupTokenFixtures(t, ts)
	tr, err := admin.CoreV1().ServiceAccounts("default").CreateToken(bg, "web", boundTo(pod, 3600), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(tr.Status.ExpirationTimestamp.Time); d < 59*time.Minute || d > time.Hour {
		t.Errorf("expires in %s", d)
	}
	tok := tr.Status.Token
	if code, body := getWithToken(t, ts, tok, "/version"); code != 200 {
		t.Fatalf("token on /version: %d %s", code, body)
	}
	who, err := ts.bearer(t, tok).AuthenticationV1().SelfSubjectReviews().Create(bg, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || who.Status.UserInfo.Username != "system:serviceaccount:default:web" || who.Status.UserInfo.Extra["authentication.kubernetes.io/pod-name"][0] != "web-0" {
		t.Errorf("whoami: %v %+v", err, who)
	}
	_, err = ts.bearer(t, tok).CoreV1().Pods("default").List(bg, metav1.ListOptions{})
	wantForbidden(t, "service account lists pods", err, `pods is forbidden: User "system:serviceaccount:default:web" cannot list resource "pods" in API group "" in the namespace "default"`)

	rev, err := admin.AuthenticationV1().TokenReviews().Create(bg, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: tok}}, metav1.CreateOptions{})
	if err != nil || !rev.Status.Authenticated {
		t.Fatalf("review: %v %+v", err, rev.Status)
	}
	u := rev.Status.User
	if u.Username != "system:serviceaccount:default:web" || u.UID != string(sa.UID) ||
		strings.Join(u.Groups, ",") != "system:serviceaccounts,system:serviceaccounts:default,system:authenticated" ||
		u.Extra["authentication.kubernetes.io/pod-name"][0] != "web-0" || u.Extra["authentication.kubernetes.io/pod-uid"][0] != string(pod.UID) ||
		u.Extra["authentication.kubernetes.io/node-name"][0] != "n1" || rev.Status.Audiences[0] != "https://kubernetes.default.svc.cluster.local" {
		t.Errorf("review status %+v", rev.Status)
	}

	if err := admin.CoreV1().Pods("default").Delete(bg, "web-0", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	if code, _ := getWithToken(t, ts, tok, "/version"); code != 401 {
		t.Errorf("token of a deleted pod: %d", code)
	}
	rev, _ = admin.AuthenticationV1().TokenReviews().Create(bg, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: tok}}, metav1.CreateOptions{})
	if rev.Status.Authenticated || rev.Status.Error != "[invalid bearer token, service account token has been invalidated]" {
		t.Errorf("review after deletion %+v", rev.Status)
	}
}

// Bad requests get kube's answers.
func TestTokenRequestRefusals(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	admin := ts.admin(t)
	_, pod := setupTokenFixtures(t, ts)
	sas := admin.CoreV1().ServiceAccounts("default")
	_, err := sas.CreateToken(bg, "web", boundTo(pod, 60), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || err.Error() != `TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes` {
		t.Errorf("short token: %v", err)
	}
	_, err = sas.CreateToken(bg, "nobody", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) || err.Error() != `serviceaccounts "nobody" not found` {
		t.Errorf("no service account: %v", err)
	}
	stale := boundTo(pod, 3600)
	stale.Spec.BoundObjectRef.UID = "old"
	if _, err = sas.CreateToken(bg, "web", stale, metav1.CreateOptions{}); !apierrors.IsConflict(err) ||
		!strings.Contains(err.Error(), "the UID in the bound object reference (old) does not match the UID in record") {
		t.Errorf("stale uid: %v", err)
	}
	if _, err := sas.Create(bg, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err = sas.CreateToken(bg, "other", boundTo(pod, 3600), metav1.CreateOptions{}); !apierrors.IsBadRequest(err) ||
		err.Error() != `cannot bind token for serviceaccount "other" to pod running with different serviceaccount name.` {
		t.Errorf("another service account's pod: %v", err)
	}
	cm := boundTo(pod, 3600)
	cm.Spec.BoundObjectRef.Kind = "ConfigMap"
	if _, err = sas.CreateToken(bg, "web", cm, metav1.CreateOptions{}); !apierrors.IsBadRequest(err) ||
		err.Error() != "cannot bind token to object of type /v1, Kind=ConfigMap" {
		t.Errorf("bound to a configmap: %v", err)
	}
	// A token for another audience is not for the API, but its audience's
	// TokenReview accepts it.
	tr, err := sas.CreateToken(bg, "web", boundTo(pod, 3600, "vault"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := getWithToken(t, ts, tr.Status.Token, "/version"); code != 401 {
		t.Errorf("vault token on the API: %d", code)
	}
	rev, err := admin.AuthenticationV1().TokenReviews().Create(bg, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{
		Token: tr.Status.Token, Audiences: []string{"vault"}}}, metav1.CreateOptions{})
	if err != nil || !rev.Status.Authenticated || rev.Status.Audiences[0] != "vault" {
		t.Errorf("vault review: %v %+v", err, rev.Status)
	}
}

// A node asks for tokens of its pods only, bound to them, as kube's Node
// authorizer and NodeRestriction allow.
func TestNodeTokenRequests(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	_, pod := setupTokenFixtures(t, ts)
	n1, n2 := ts.node(t, "n1"), ts.node(t, "n2")
	if _, err := n1.CoreV1().ServiceAccounts("default").CreateToken(bg, "web", boundTo(pod, 3600), metav1.CreateOptions{}); err != nil {
		t.Fatalf("n1 for its pod: %v", err)
	}
	_, err := n1.CoreV1().ServiceAccounts("default").CreateToken(bg, "web", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	wantForbidden(t, "n1 unbound", err, `serviceaccounts "web" is forbidden: node requested token not bound to a pod`)
	noUID := boundTo(pod, 3600)
	noUID.Spec.BoundObjectRef.UID = ""
	_, err = n1.CoreV1().ServiceAccounts("default").CreateToken(bg, "web", noUID, metav1.CreateOptions{})
	wantForbidden(t, "n1 without uid", err, `serviceaccounts "web" is forbidden: node requested token with a pod binding without a uid`)
	_, err = n2.CoreV1().ServiceAccounts("default").CreateToken(bg, "web", boundTo(pod, 3600), metav1.CreateOptions{})
	wantForbidden(t, "n2", err, `serviceaccounts "web" is forbidden: User "system:node:n2" cannot create resource "serviceaccounts/token" in API group "" in the namespace "default": node: no relationship found between node 'n2' and this object`)
}

// kubelet's kube-api-access token (3607 s) lasts a year and says when it
// should have been replaced; the issuer's keys verify it, and service
// accounts (not nodes) may read them.
func TestExtendedTokenAndIssuerDiscovery(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	_, pod := setupTokenFixtures(t, ts)
	tr, err := ts.admin(t).CoreV1().ServiceAccounts("default").CreateToken(bg, "web", boundTo(pod, 3607), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Exp int64 `json:"exp"`
		Iat int64 `json:"iat"`
		K   struct {
			WarnAfter int64 `json:"warnafter"`
		} `json:"kubernetes.io"`
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tr.Status.Token, ".")[1])
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Exp-claims.Iat != 365*24*3600 || claims.K.WarnAfter-claims.Iat != 3607 ||
		tr.Status.ExpirationTimestamp.Unix()-claims.Iat != 3607 {
		t.Errorf("claims %+v, status expiry %s", claims, tr.Status.ExpirationTimestamp)
	}

	code, body := getWithToken(t, ts, tr.Status.Token, "/.well-known/openid-configuration")
	var cfg map[string]any
	if json.Unmarshal([]byte(body), &cfg); code != 200 || cfg["jwks_uri"] != "https://kubernetes.default.svc.cluster.local/openid/v1/jwks" {
		t.Fatalf("openid configuration: %d %s", code, body)
	}
	code, body = getWithToken(t, ts, tr.Status.Token, "/openid/v1/jwks")
	var keys jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &keys); code != 200 || err != nil || len(keys.Keys) != 1 {
		t.Fatalf("jwks: %d %v %s", code, err, body)
	}
	sig, err := jose.ParseSigned(tr.Status.Token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sig.Verify(keys.Keys[0].Key); err != nil {
		t.Errorf("the published key does not verify the token: %v", err)
	}
	c, host := rawClient(t, ts)
	if code, _, _ := do(t, c, "GET", host+"/openid/v1/jwks", "", nil); code != 200 {
		t.Errorf("admin reads the keys: %d", code)
	}
	_, err = ts.node(t, "n1").Discovery().RESTClient().Get().AbsPath("/openid/v1/jwks").DoRaw(bg)
	if !apierrors.IsForbidden(err) {
		t.Errorf("a node reads the keys: %v", err)
	}
}
