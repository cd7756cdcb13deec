package apiserver

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// startReviewServer runs a server with a token file: bob (no groups) and
// kube-apiserver-kubelet-client (the agent client's name, by token).
func startReviewServer(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	tokens := filepath.Join(t.TempDir(), "tokens.csv")
	data := "bob-token,bob,1001\nkc-token,kube-apiserver-kubelet-client,1002\nops-token,olga,1003,\"ops,dev\"\n"
	if err := os.WriteFile(tokens, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServerWith(t, dir, 0, func(c *Config) { c.TokenFile = tokens })
}

// withToken is a client that authenticates with a bearer token only.
func (ts *testServer) withToken(t *testing.T, token string) kubernetes.Interface {
	t.Helper()
	admin, err := os.ReadFile(ts.srv.AdminKubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(ts.restConfig(t, admin))
	cfg.BearerToken = token
	return kubernetes.NewForConfigOrDie(cfg)
}

func TestTokenReviewAnswersAsKubeAPIServer(t *testing.T) {
	ts := startReviewServer(t)
	node := ts.node(t, "n1")
	review := func(token string) (*authenticationv1.TokenReview, error) {
		return node.AuthenticationV1().TokenReviews().Create(bg, &authenticationv1.TokenReview{
			Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: []string{"https://example"}}}, metav1.CreateOptions{})
	}
	got, err := review("ops-token")
	if err != nil {
		t.Fatal(err)
	}
	st := got.Status
	if !st.Authenticated || st.User.Username != "olga" || st.User.UID != "1003" ||
		!slices.Equal(st.User.Groups, []string{"ops", "dev", "system:authenticated"}) || !slices.Equal(st.Audiences, []string{"https://example"}) {
		t.Fatalf("good token: %+v", st)
	}
	got, err = review("not-a-token")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Authenticated || got.Status.User.Username != "" || got.Status.Error != "invalid bearer token" {
		t.Fatalf("bad token: %+v", got.Status)
	}
	_, err = review("")
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "token is required for TokenReview in authentication") {
		t.Fatalf("empty token: %v", err)
	}
}

func TestSubjectAccessReviewRunsTheAuthorizer(t *testing.T) {
	ts := startReviewServer(t)
	node := ts.node(t, "n1")
	sar := func(user string, groups []string, ra *authorizationv1.ResourceAttributes) authorizationv1.SubjectAccessReviewStatus {
		t.Helper()
		got, err := node.AuthorizationV1().SubjectAccessReviews().Create(bg, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: groups, ResourceAttributes: ra}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	proxyN1 := &authorizationv1.ResourceAttributes{Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "n1"}
	if st := sar("kube-apiserver-kubelet-client", nil, proxyN1); !st.Allowed || st.Denied {
		t.Errorf("kubelet client on nodes/proxy: %+v", st)
	}
	if st := sar("admin", []string{"system:masters"}, proxyN1); !st.Allowed {
		t.Errorf("system:masters on nodes/proxy: %+v", st)
	}
	for _, who := range []struct {
		user   string
		groups []string
	}{{"system:node:n2", []string{"system:nodes"}}, {"system:node:n1", []string{"system:nodes"}}, {"bob", nil}} {
		if st := sar(who.user, who.groups, proxyN1); st.Allowed || st.Denied || st.Reason == "" {
			t.Errorf("%s on nodes/proxy of n1: %+v, want not allowed, with a reason", who.user, st)
		}
	}
	// Groups are taken as given: a node name without system:nodes is no node.
	if st := sar("system:node:n1", nil, &authorizationv1.ResourceAttributes{Verb: "get", Resource: "nodes", Name: "n1"}); st.Allowed {
		t.Errorf("a node user without its group: %+v", st)
	}
	got, err := node.AuthorizationV1().SubjectAccessReviews().Create(bg, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "bob", NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/api", Verb: "get"}}}, metav1.CreateOptions{})
	if err != nil || !got.Status.Allowed {
		t.Errorf("bob on /api: %v %+v", err, got)
	}
}

func TestSubjectAccessReviewValidation(t *testing.T) {
	ts := startReviewServer(t)
	c := ts.admin(t).AuthorizationV1().SubjectAccessReviews()
	cases := map[string]authorizationv1.SubjectAccessReviewSpec{
		"spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified": {User: "bob"},
		"spec.nonResourceAttributes: Invalid value":                                     {User: "bob", ResourceAttributes: &authorizationv1.ResourceAttributes{}, NonResourceAttributes: &authorizationv1.NonResourceAttributes{}},
		`spec.user: Invalid value: "": at least one of user or group must be specified`: {ResourceAttributes: &authorizationv1.ResourceAttributes{}},
	}
	for want, spec := range cases {
		_, err := c.Create(bg, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want 422 with %q", spec, err, want)
		}
	}
}

// Only system:masters and nodes may create reviews (kube's NodeRules); a
// review is create-only.
func TestWhoMayCreateReviews(t *testing.T) {
	ts := startReviewServer(t)
	tr := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "bob-token"}}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "bob",
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods"}}}
	for name, c := range map[string]kubernetes.Interface{"admin": ts.admin(t), "node": ts.node(t, "n1"),
		"bob": ts.withToken(t, "bob-token"), "kubelet client": ts.withToken(t, "kc-token")} {
		want := name == "admin" || name == "node"
		_, err1 := c.AuthenticationV1().TokenReviews().Create(bg, tr, metav1.CreateOptions{})
		_, err2 := c.AuthorizationV1().SubjectAccessReviews().Create(bg, sar, metav1.CreateOptions{})
		for _, err := range []error{err1, err2} {
			if want && err != nil || !want && !apierrors.IsForbidden(err) {
				t.Errorf("%s creates a review: %v (want allowed=%v, else 403)", name, err, want)
			}
		}
	}
	res := ts.admin(t).Discovery().RESTClient()
	err := res.Get().AbsPath("/apis/authentication.k8s.io/v1/tokenreviews").Do(bg).Error()
	if !apierrors.IsMethodNotSupported(err) {
		t.Errorf("list tokenreviews: %v, want 405", err)
	}
	err = ts.withToken(t, "bob-token").Discovery().RESTClient().Get().AbsPath("/apis/authorization.k8s.io/v1/subjectaccessreviews").Do(bg).Error()
	if !apierrors.IsForbidden(err) {
		t.Errorf("bob lists subjectaccessreviews: %v, want 403", err)
	}
}

func TestReviewsInDiscovery(t *testing.T) {
	ts := startReviewServer(t)
	d := ts.admin(t).Discovery()
	for gv, want := range map[string][]string{"authentication.k8s.io/v1": {"tokenreviews", "selfsubjectreviews"},
		"authorization.k8s.io/v1": {"subjectaccessreviews", "selfsubjectaccessreviews", "selfsubjectrulesreviews", "localsubjectaccessreviews"}} {
		list, err := d.ServerResourcesForGroupVersion(gv)
		if err != nil {
			t.Fatalf("%s: %v", gv, err)
		}
		var names []string
		for _, r := range list.APIResources {
			names = append(names, r.Name)
			if !slices.Equal(r.Verbs, []string{"create"}) || r.Namespaced != (r.Name == "localsubjectaccessreviews") {
				t.Errorf("%s: %+v", gv, r)
			}
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: %v, want %v", gv, names, want)
		}
	}
	_, lists, err := d.ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, l := range lists {
		for _, r := range l.APIResources {
			if r.Name == "tokenreviews" || r.Name == "subjectaccessreviews" {
				found++
			}
		}
	}
	if found != 2 {
		t.Errorf("aggregated discovery lists %d of the two reviews", found)
	}
}
