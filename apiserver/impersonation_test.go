package apiserver

import (
	"os"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// impersonating is a client of token (the admin's certificate when "")
// that impersonates as.
func (ts *testServer) impersonating(t *testing.T, token string, as rest.ImpersonationConfig) kubernetes.Interface {
	t.Helper()
	data, err := os.ReadFile(ts.srv.AdminKubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	cfg := ts.restConfig(t, data)
	if token != "" {
		cfg = rest.AnonymousClientConfig(cfg)
		cfg.BearerToken = token
	}
	cfg.Impersonate = as
	return kubernetes.NewForConfigOrDie(cfg)
}

// Impersonation as kube-apiserver's (kubectl --as, --as-group): allowed
// by the "impersonate" verb on users, groups and serviceaccounts (the
// admin may); the request then acts, and is authorized, as the
// impersonated user; without the verb, kube's 403.
func TestImpersonation(t *testing.T) {
	ts := startReviewServer(t)
	admin := ts.admin(t)
	if _, err := admin.RbacV1().RoleBindings("default").Create(bg, bindRole("default", "web-views", "ClusterRole", "view", rbacSubject("ServiceAccount", "web")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	asWeb := ts.impersonating(t, "", rest.ImpersonationConfig{UserName: "system:serviceaccount:default:web"})
	eventuallyNoErr(t, "the admin as the service account lists pods", func() error {
		_, err := asWeb.CoreV1().Pods("default").List(bg, metav1.ListOptions{})
		return err
	})
	_, err := asWeb.CoreV1().Secrets("default").List(bg, metav1.ListOptions{})
	wantForbidden(t, "as the service account", err, `secrets is forbidden: User "system:serviceaccount:default:web" cannot list resource "secrets" in API group "" in the namespace "default"`)
	review, err := asWeb.AuthenticationV1().SelfSubjectReviews().Create(bg, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || (review.Status.UserInfo.Username != "system:serviceaccount:default:web" ||
		len(review.Status.UserInfo.Groups) != 3 || review.Status.UserInfo.Groups[2] != "system:authenticated") {
		t.Errorf("whoami as the service account: %v %+v", err, review)
	}
	ssar, err := asWeb.AuthorizationV1().SelfSubjectAccessReviews().Create(bg, &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "delete", Resource: "nodes"}}}, metav1.CreateOptions{})
	if err != nil || ssar.Status.Allowed {
		t.Errorf("can-i --as: the admin's answer: %v %+v", err, ssar)
	}
	asMaster := ts.impersonating(t, "", rest.ImpersonationConfig{UserName: "someone", Groups: []string{"system:masters"}})
	if _, err := asMaster.CoreV1().Secrets("default").List(bg, metav1.ListOptions{}); err != nil {
		t.Errorf("the admin as a member of system:masters: %v", err)
	}

	bobAsWeb := ts.impersonating(t, "bob-token", rest.ImpersonationConfig{UserName: "system:serviceaccount:default:web"})
	_, err = bobAsWeb.CoreV1().Pods("default").List(bg, metav1.ListOptions{})
	wantForbidden(t, "bob may not impersonate", err, `serviceaccounts "web" is forbidden: User "bob" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "default"`)
	bobAsAdmin := ts.impersonating(t, "bob-token", rest.ImpersonationConfig{UserName: "bob", Groups: []string{"system:masters"}})
	_, err = bobAsAdmin.CoreV1().Secrets("default").List(bg, metav1.ListOptions{})
	wantForbidden(t, "bob as system:masters", err, `users "bob" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope`)

	imp := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "impersonate-web"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"impersonate"}, ResourceNames: []string{"web"}}}}
	if _, err := admin.RbacV1().ClusterRoles().Create(bg, imp, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bob-impersonates-web"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "impersonate-web"}, Subjects: []rbacv1.Subject{rbacSubject("User", "bob")}}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(bg, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventuallyNoErr(t, "bob impersonates web once allowed", func() error {
		_, err := bobAsWeb.CoreV1().Pods("default").List(bg, metav1.ListOptions{})
		return err
	})
	_, err = ts.impersonating(t, "bob-token", rest.ImpersonationConfig{UserName: "system:serviceaccount:default:other"}).CoreV1().Pods("default").List(bg, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("bob impersonates another service account: %v", err)
	}
}
