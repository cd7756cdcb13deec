package printers

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

func TestRoleBindingPrinters(t *testing.T) {
	subjects := []rbacv1.Subject{{Kind: "User", Name: "jane"}, {Kind: "User", Name: "joe"}, {Kind: "Group", Name: "devs"},
		{Kind: "ServiceAccount", Name: "default"}, {Kind: "ServiceAccount", Namespace: "ci", Name: "bot"}}
	for _, res := range []string{"rolebindings", "clusterrolebindings"} {
		p, _ := For(res)
		if got, want := header(p.Columns(), true), "NAME | ROLE | AGE | USERS | GROUPS | SERVICEACCOUNTS"; got != want {
			t.Errorf("%s header\n got %q\nwant %q", res, got, want)
		}
		if got, want := header(p.Columns(), false), "NAME | ROLE | AGE"; got != want {
			t.Errorf("%s header\n got %q\nwant %q", res, got, want)
		}
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: objectMeta("read"), RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "view"}, Subjects: subjects}
	checkCells(t, row(t, "rolebindings", rb), []interface{}{"read", "ClusterRole/view", "10m", "jane, joe", "devs", "default, ci/bot"})
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: objectMeta("admins"), RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"}}
	checkCells(t, row(t, "clusterrolebindings", crb), []interface{}{"admins", "ClusterRole/cluster-admin", "10m", "", "", ""})
	if p, ok := For("roles"); ok || header(p.Columns(), false) != "NAME | CREATED AT" {
		t.Errorf("roles: kube-apiserver's default columns")
	}
}
