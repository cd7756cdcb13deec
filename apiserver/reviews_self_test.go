package apiserver

import (
	"slices"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kubectl auth can-i: a SelfSubjectAccessReview answers for the requesting
// user with RBAC; can-i --list: a SelfSubjectRulesReview lists the rules
// RBAC grants in a namespace; a SubjectAccessReview answers with RBAC too.
func TestSelfSubjectReviews(t *testing.T) {
	ts := startReviewServer(t)
	admin := ts.admin(t)
	if _, err := admin.RbacV1().RoleBindings("default").Create(bg, bindRole("default", "bob-views", "ClusterRole", "view", rbacSubject("User", "bob")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bob := ts.withToken(t, "bob-token").AuthorizationV1()
	can := func(verb, resource, ns string) (bool, error) {
		r, err := bob.SelfSubjectAccessReviews().Create(bg, &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Resource: resource, Namespace: ns}}}, metav1.CreateOptions{})
		if err != nil {
			return false, err
		}
		return r.Status.Allowed, nil
	}
	eventuallyNoErr(t, "bob can list pods", func() error {
		if ok, err := can("list", "pods", "default"); err != nil || !ok {
			return errorString("not yet: " + errText(err))
		}
		return nil
	})
	for _, c := range []struct{ verb, res, ns string }{{"get", "secrets", "default"}, {"list", "pods", "kube-system"}, {"delete", "pods", "default"}} {
		if ok, err := can(c.verb, c.res, c.ns); err != nil || ok {
			t.Errorf("bob can %s %s in %s: %t %v", c.verb, c.res, c.ns, ok, err)
		}
	}
	// kubectl auth can-i prints "no" and the reason when there is one; RBAC
	// gives none for a plain denial, the Forbidden message is not a reason.
	denied, err := bob.SelfSubjectAccessReviews().Create(bg, &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "default"}}}, metav1.CreateOptions{})
	if err != nil || denied.Status.Allowed || denied.Status.Reason != "" {
		t.Errorf("a denial's reason: %v %+v", err, denied.Status)
	}
	r, err := bob.SelfSubjectAccessReviews().Create(bg, &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/version"}}}, metav1.CreateOptions{})
	if err != nil || !r.Status.Allowed {
		t.Errorf("bob can get /version: %v %+v", err, r)
	}
	_, err = bob.SelfSubjectAccessReviews().Create(bg, &authorizationv1.SelfSubjectAccessReview{}, metav1.CreateOptions{})
	wantInvalidParts(t, err, `spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified`)

	rr, err := bob.SelfSubjectRulesReviews().Create(bg, &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "default"}}, metav1.CreateOptions{})
	if err != nil || rr.Status.Incomplete {
		t.Fatalf("rules review: %v %+v", err, rr)
	}
	hasPods := slices.ContainsFunc(rr.Status.ResourceRules, func(r authorizationv1.ResourceRule) bool {
		return slices.Contains(r.Resources, "pods") && slices.Contains(r.Verbs, "list")
	})
	hasSelf := slices.ContainsFunc(rr.Status.ResourceRules, func(r authorizationv1.ResourceRule) bool {
		return slices.Contains(r.Resources, "selfsubjectaccessreviews")
	})
	hasVersion := slices.ContainsFunc(rr.Status.NonResourceRules, func(r authorizationv1.NonResourceRule) bool {
		return slices.Contains(r.NonResourceURLs, "/version")
	})
	if !hasPods || !hasSelf || !hasVersion {
		t.Errorf("rules review lacks view, basic-user or discovery rules: %+v", rr.Status)
	}
	rr, _ = bob.SelfSubjectRulesReviews().Create(bg, &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "kube-system"}}, metav1.CreateOptions{})
	if slices.ContainsFunc(rr.Status.ResourceRules, func(r authorizationv1.ResourceRule) bool { return slices.Contains(r.Resources, "pods") }) {
		t.Errorf("bob's RoleBinding shows in kube-system: %+v", rr.Status)
	}
	_, err = bob.SelfSubjectRulesReviews().Create(bg, &authorizationv1.SelfSubjectRulesReview{}, metav1.CreateOptions{})
	if err == nil || err.Error() != "no namespace on request" {
		t.Errorf("rules review without namespace: %v", err)
	}

	sar, err := admin.AuthorizationV1().SubjectAccessReviews().Create(bg, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: "bob", ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "list", Resource: "pods", Namespace: "default"}}}, metav1.CreateOptions{})
	if err != nil || !sar.Status.Allowed {
		t.Errorf("SubjectAccessReview with RBAC: %v %+v", err, sar)
	}
}

// A LocalSubjectAccessReview asks about anyone within one namespace; the
// admin role (bound in that namespace) may create it there.
func TestLocalSubjectAccessReview(t *testing.T) {
	ts := startReviewServer(t)
	admin := ts.admin(t)
	if _, err := admin.RbacV1().RoleBindings("default").Create(bg, bindRole("default", "bob-admin", "ClusterRole", "admin", rbacSubject("User", "bob")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bob := ts.withToken(t, "bob-token").AuthorizationV1()
	lsar := func(ns, attrNS string) *authorizationv1.LocalSubjectAccessReview {
		return &authorizationv1.LocalSubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Namespace: ns}, Spec: authorizationv1.SubjectAccessReviewSpec{
			User: "olga", ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "list", Resource: "pods", Namespace: attrNS}}}
	}
	var got *authorizationv1.LocalSubjectAccessReview
	eventuallyNoErr(t, "bob asks in default", func() error {
		var err error
		got, err = bob.LocalSubjectAccessReviews("default").Create(bg, lsar("default", "default"), metav1.CreateOptions{})
		return err
	})
	if got.Status.Allowed {
		t.Errorf("olga may list pods: %+v", got.Status)
	}
	if _, err := admin.RbacV1().RoleBindings("default").Create(bg, bindRole("default", "olga-views", "ClusterRole", "view", rbacSubject("User", "olga")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventuallyNoErr(t, "olga may list pods once bound", func() error {
		got, err := bob.LocalSubjectAccessReviews("default").Create(bg, lsar("default", "default"), metav1.CreateOptions{})
		if err != nil || !got.Status.Allowed {
			return errorString("not yet: " + errText(err))
		}
		return nil
	})
	_, err := bob.LocalSubjectAccessReviews("default").Create(bg, lsar("default", "kube-system"), metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) || err.Error() != "spec.resourceAttributes.namespace must match namespace: default" {
		t.Errorf("another namespace in the spec: %v", err)
	}
	_, err = bob.LocalSubjectAccessReviews("kube-system").Create(bg, lsar("kube-system", "kube-system"), metav1.CreateOptions{})
	wantForbidden(t, "bob in kube-system", err, `localsubjectaccessreviews.authorization.k8s.io is forbidden: User "bob" cannot create resource "localsubjectaccessreviews" in API group "authorization.k8s.io" in the namespace "kube-system"`)
}
