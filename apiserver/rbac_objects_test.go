package apiserver

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func podReader(ns string) *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "pod-reader", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}}}
}

// Roles, ClusterRoles and their bindings are served and validated as
// kube-apiserver validates them, with its field paths and messages.
func TestRBACObjectsValidation(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	rbac := ts.admin(t).RbacV1()
	roles := rbac.Roles("default")
	if _, err := roles.Create(bg, podReader("default"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create role: %v", err)
	}
	bad := podReader("default")
	bad.Name = "bad"
	bad.Rules = []rbacv1.PolicyRule{{Resources: []string{"pods"}}, {NonResourceURLs: []string{"/healthz"}, Verbs: []string{"get"}}}
	_, err := roles.Create(bg, bad, metav1.CreateOptions{})
	wantInvalidParts(t, err, `Role.rbac.authorization.k8s.io "bad" is invalid`,
		`rules[0].verbs: Required value: verbs must contain at least one value`,
		`rules[0].apiGroups: Required value: resource rules must supply at least one api group`,
		`rules[1].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs`)

	mixed := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "mixed"},
		Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Resources: []string{"pods"}, Verbs: []string{"get"}}}}
	_, err = rbac.ClusterRoles().Create(bg, mixed, metav1.CreateOptions{})
	wantInvalidParts(t, err, `rules[0].nonResourceURLs: Invalid value: ["/metrics"]: rules cannot apply to both regular resources and non-resource URLs`)
	metrics := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "metrics"},
		Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
	if _, err := rbac.ClusterRoles().Create(bg, metrics, metav1.CreateOptions{}); err != nil {
		t.Errorf("a ClusterRole with a non-resource URL: %v", err)
	}
	agg := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "agg"}, AggregationRule: &rbacv1.AggregationRule{}}
	_, err = rbac.ClusterRoles().Create(bg, agg, metav1.CreateOptions{})
	wantInvalidParts(t, err, `aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil`)

	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "read-pods", Namespace: "default"},
		RoleRef:  rbacv1.RoleRef{Kind: "Role", Name: "pod-reader"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: "jane"}, {Kind: "ServiceAccount", Name: "default"}}}
	got, err := rbac.RoleBindings("default").Create(bg, rb, metav1.CreateOptions{})
	if err != nil || got.RoleRef.APIGroup != rbacv1.GroupName || got.Subjects[0].APIGroup != rbacv1.GroupName || got.Subjects[1].APIGroup != "" {
		t.Fatalf("create rolebinding (defaults): %v %+v", err, got)
	}
	got.RoleRef.Name = "other"
	_, err = rbac.RoleBindings("default").Update(bg, got, metav1.UpdateOptions{})
	wantInvalidParts(t, err, `roleRef: Invalid value: `, `: cannot change roleRef`)

	badRB := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "default"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "example.com", Kind: "Secret", Name: ""},
		Subjects: []rbacv1.Subject{{Kind: "Robot", Name: "r2"}, {Kind: "User", APIGroup: "other", Name: "x"}, {Kind: "ServiceAccount", APIGroup: "v1", Name: "Bad_Name"}}}
	_, err = rbac.RoleBindings("default").Create(bg, badRB, metav1.CreateOptions{})
	wantInvalidParts(t, err, `roleRef.apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"`,
		`roleRef.kind: Unsupported value: "Secret": supported values: "Role", "ClusterRole"`,
		`roleRef.name: Required value`,
		`subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"`,
		`subjects[1].apiGroup: Unsupported value: "other": supported values: "rbac.authorization.k8s.io"`,
		`subjects[2].name: Invalid value: "Bad_Name"`, `subjects[2].apiGroup: Unsupported value: "v1": supported values: ""`)

	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "crb"},
		RoleRef:  rbacv1.RoleRef{Kind: "Role", Name: "pod-reader"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default"}}}
	_, err = rbac.ClusterRoleBindings().Create(bg, crb, metav1.CreateOptions{})
	wantInvalidParts(t, err, `roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"`, `subjects[0].namespace: Required value`)
}
