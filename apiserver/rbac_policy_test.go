package apiserver

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/apiserver/auth"
)

// The server starts with kube's default roles: admin, edit and view are
// aggregated from their parts by the aggregation controller, and grow
// when a ClusterRole labelled to aggregate into them appears; a
// RoleBinding to view lets its user read, not write, in its namespace.
func TestRBACDefaultRolesAndAggregation(t *testing.T) {
	ts := startReviewServer(t)
	admin := ts.admin(t)
	rbac := admin.RbacV1()
	for _, name := range []string{"cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user",
		"system:public-info-viewer", "system:service-account-issuer-discovery", "system:node-proxier"} {
		if _, err := rbac.ClusterRoles().Get(bg, name, metav1.GetOptions{}); err != nil {
			t.Errorf("default ClusterRole %s: %v", name, err)
		}
	}
	crb, err := rbac.ClusterRoleBindings().Get(bg, "cluster-admin", metav1.GetOptions{})
	if err != nil || crb.Subjects[0].Name != "system:masters" {
		t.Errorf("cluster-admin binding: %v %+v", err, crb)
	}
	if _, err := rbac.ClusterRoleBindings().Get(bg, "system:node", metav1.GetOptions{}); err == nil {
		t.Error("system:node is bound: nodes get no RBAC role")
	}
	hasRule := func(role, resource string) func() error {
		return func() error {
			r, err := rbac.ClusterRoles().Get(bg, role, metav1.GetOptions{})
			if err != nil {
				return err
			}
			for _, rule := range r.Rules {
				if slices.Contains(rule.Resources, resource) {
					return nil
				}
			}
			return fmt.Errorf("%s has no rule on %s: %+v", role, resource, r.Rules)
		}
	}
	eventuallyNoErr(t, "view aggregated", hasRule("view", "pods"))
	eventuallyNoErr(t, "edit has view's rules", hasRule("edit", "pods/log"))
	eventuallyNoErr(t, "admin has edit's and its own rules", hasRule("admin", "rolebindings"))

	if _, err := rbac.RoleBindings("default").Create(bg, bindRole("default", "bob-views", "ClusterRole", "view", rbacSubject("User", "bob")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bob := ts.withToken(t, "bob-token")
	eventuallyNoErr(t, "bob reads pods", func() error {
		_, err := bob.CoreV1().Pods("default").List(bg, metav1.ListOptions{})
		return err
	})
	_, err = bob.CoreV1().Secrets("default").List(bg, metav1.ListOptions{})
	wantForbidden(t, "view reads no secrets", err, `secrets is forbidden: User "bob" cannot list resource "secrets" in API group "" in the namespace "default"`)
	_, err = bob.CoreV1().ConfigMaps("default").Create(bg, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}}, metav1.CreateOptions{})
	wantForbidden(t, "view writes nothing", err, `configmaps is forbidden: User "bob" cannot create resource "configmaps" in API group "" in the namespace "default"`)
	_, err = bob.RbacV1().ClusterRoles().List(bg, metav1.ListOptions{})
	wantForbidden(t, "cluster scope", err, `clusterroles.rbac.authorization.k8s.io is forbidden: User "bob" cannot list resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope`)

	extra := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "widgets-view", Labels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"example.com"}, Resources: []string{"widgets"}, Verbs: []string{"get", "list"}}}}
	if _, err := rbac.ClusterRoles().Create(bg, extra, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventuallyNoErr(t, "view grows", hasRule("view", "widgets"))
	eventuallyNoErr(t, "edit grows through view", hasRule("edit", "widgets"))
	if err := rbac.ClusterRoles().Delete(bg, "widgets-view", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventuallyNoErr(t, "view shrinks", func() error {
		if hasRule("view", "widgets")() == nil {
			return fmt.Errorf("view still has widgets")
		}
		return nil
	})
}

// kube's aggregation: matching roles in name order, each rule once, the
// role itself left out.
func TestAggregatedRules(t *testing.T) {
	r := func(name string, labels map[string]string, res ...string) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: res}}}
	}
	lbl := map[string]string{"agg": "yes"}
	agg := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "agg", Labels: lbl},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: lbl}}}}
	roles := []*rbacv1.ClusterRole{agg, r("z", lbl, "pods"), r("a", lbl, "secrets"), r("b", lbl, "pods"), r("other", nil, "nodes")}
	got, ok := aggregatedRules(agg, roles)
	if !ok || len(got) != 2 || got[0].Resources[0] != "secrets" || got[1].Resources[0] != "pods" {
		t.Errorf("got %+v", got)
	}
	if _, ok := aggregatedRules(roles[1], roles); ok {
		t.Error("a role without aggregationRule aggregated")
	}
}

// At start the default roles and bindings get back what they lack, as
// kube's bootstrap reconciliation (union): rules and subjects are added,
// extra ones kept, and a default annotated autoupdate=false is left alone.
func TestRBACDefaultsReconciledAtStart(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir, 0)
	rbac := ts.admin(t).RbacV1()
	basic, err := rbac.ClusterRoles().Get(bg, "system:basic-user", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	basic.Rules = basic.Rules[:1]
	basic.Rules = append(basic.Rules, rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}})
	if _, err := rbac.ClusterRoles().Update(bg, basic, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	public, _ := rbac.ClusterRoles().Get(bg, "system:public-info-viewer", metav1.GetOptions{})
	public.Annotations["rbac.authorization.kubernetes.io/autoupdate"] = "false"
	public.Rules = nil
	if _, err := rbac.ClusterRoles().Update(bg, public, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	discovery, _ := rbac.ClusterRoleBindings().Get(bg, "system:discovery", metav1.GetOptions{})
	discovery.Subjects = []rbacv1.Subject{rbacSubject("User", "jane")}
	if _, err := rbac.ClusterRoleBindings().Update(bg, discovery, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	port := ts.port
	ts.stop()
	rbac = startServer(t, dir, port).admin(t).RbacV1()

	basic, _ = rbac.ClusterRoles().Get(bg, "system:basic-user", metav1.GetOptions{})
	if len(auth.MissingRules(basic.Rules, defaultRole(t, "system:basic-user").Rules)) != 0 ||
		!slices.ContainsFunc(basic.Rules, func(r rbacv1.PolicyRule) bool { return slices.Contains(r.Resources, "configmaps") }) {
		t.Errorf("system:basic-user after restart: %+v", basic.Rules)
	}
	if public, _ = rbac.ClusterRoles().Get(bg, "system:public-info-viewer", metav1.GetOptions{}); len(public.Rules) != 0 {
		t.Errorf("autoupdate=false was reconciled: %+v", public.Rules)
	}
	discovery, _ = rbac.ClusterRoleBindings().Get(bg, "system:discovery", metav1.GetOptions{})
	if len(discovery.Subjects) != 2 || discovery.Subjects[0].Name != "jane" || discovery.Subjects[1].Name != "system:authenticated" {
		t.Errorf("system:discovery subjects after restart: %+v", discovery.Subjects)
	}
}

func defaultRole(t *testing.T, name string) *rbacv1.ClusterRole {
	for _, r := range defaultClusterRoles() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no default role %s", name)
	return nil
}
