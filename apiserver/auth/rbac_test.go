package auth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// rbacAuthorizer is an authorizer whose RBAC index holds objs.
func rbacAuthorizer(objs ...runtime.Object) (*Authorizer, *RBACIndex) {
	x := NewRBACIndex()
	for _, res := range []string{ResClusterRoles, ResRoles, ResClusterRoleBindings, ResRoleBindings} {
		x.Replace(res, nil)
	}
	for _, o := range objs {
		x.Set(o)
	}
	a := NewAuthorizer(&fakeGraph{})
	a.SetRBAC(x)
	return a, x
}

func clusterRole(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

func role(ns, name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules}
}

func roleBinding(ns, name, kind, roleName string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: roleName}, Subjects: subjects}
}

func clusterRoleBinding(name, roleName string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName}, Subjects: subjects}
}

func rule(verbs, groups, resources []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources}
}

func list(s ...string) []string { return s }

func userSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: name}
}

func saUser(ns, name string) *User {
	return withAuthenticated(User{Name: ServiceAccountUser(ns, name), Groups: []string{GroupServiceAccounts, GroupServiceAccounts + ":" + ns}})
}

// Rules match as kube's RBAC authorizer matches them.
func TestRBACRuleMatching(t *testing.T) {
	r := func(verbs, groups, resources, names []string) *rbacv1.PolicyRule {
		return &rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
	}
	get := func(group, res, sub, name string) Attributes {
		return Attributes{ResourceRequest: true, Verb: "get", APIGroup: group, Resource: res, Subresource: sub, Name: name}
	}
	cases := []struct {
		rule *rbacv1.PolicyRule
		at   Attributes
		want bool
	}{
		{r(list("get"), list(""), list("pods"), nil), get("", "pods", "", "p"), true},
		{r(list("*"), list(""), list("pods"), nil), get("", "pods", "", "p"), true},
		{r(list("list"), list(""), list("pods"), nil), get("", "pods", "", "p"), false},
		{r(list("get"), list("apps"), list("pods"), nil), get("", "pods", "", "p"), false},
		{r(list("get"), list("*"), list("*"), nil), get("apps", "deployments", "scale", "d"), true},
		{r(list("get"), list(""), list("pods"), nil), get("", "pods", "log", "p"), false},
		{r(list("get"), list(""), list("pods/log"), nil), get("", "pods", "log", "p"), true},
		{r(list("get"), list(""), list("*/log"), nil), get("", "pods", "log", "p"), true},
		{r(list("get"), list(""), list("*/log"), nil), get("", "pods", "", "p"), false},
		{r(list("get"), list(""), list("pods"), list("a")), get("", "pods", "", "a"), true},
		{r(list("get"), list(""), list("pods"), list("a")), get("", "pods", "", "b"), false},
		{r(list("get"), list(""), list("pods"), list("a")), get("", "pods", "", ""), false},
		{&rbacv1.PolicyRule{Verbs: list("get"), NonResourceURLs: list("/healthz")}, Attributes{Verb: "get", Path: "/healthz"}, true},
		{&rbacv1.PolicyRule{Verbs: list("get"), NonResourceURLs: list("/healthz")}, Attributes{Verb: "get", Path: "/healthz/etcd"}, false},
		{&rbacv1.PolicyRule{Verbs: list("get"), NonResourceURLs: list("/healthz/*")}, Attributes{Verb: "get", Path: "/healthz/etcd"}, true},
		{&rbacv1.PolicyRule{Verbs: list("get"), NonResourceURLs: list("*")}, Attributes{Verb: "get", Path: "/metrics"}, true},
		{&rbacv1.PolicyRule{Verbs: list("get"), NonResourceURLs: list("/metrics")}, Attributes{Verb: "post", Path: "/metrics"}, false},
	}
	for i, c := range cases {
		if got := ruleAllows(c.at, c.rule); got != c.want {
			t.Errorf("case %d: %+v on %+v: got %t", i, c.rule, c.at, got)
		}
	}
}

// ClusterRoleBindings grant everywhere; a RoleBinding grants in its own
// namespace only, also when it binds a ClusterRole; subjects are users,
// groups and service accounts (a RoleBinding's service account without a
// namespace is one of the binding's namespace).
func TestRBACBindings(t *testing.T) {
	readPods := rule(list("get", "list"), list(""), list("pods"))
	a, _ := rbacAuthorizer(
		clusterRole("pod-reader", readPods),
		role("team", "secret-reader", rule(list("get"), list(""), list("secrets"))),
		clusterRoleBinding("jane-reads-pods", "pod-reader", userSubject("jane")),
		roleBinding("team", "devs-read-pods", "ClusterRole", "pod-reader", rbacv1.Subject{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "devs"}),
		roleBinding("team", "bot-reads-secrets", "Role", "secret-reader", rbacv1.Subject{Kind: "ServiceAccount", Name: "bot"}),
		roleBinding("team", "ci-reads-secrets", "Role", "secret-reader", rbacv1.Subject{Kind: "ServiceAccount", Namespace: "ci", Name: "runner"}),
		roleBinding("team", "all-sas", "ClusterRole", "pod-reader", rbacv1.Subject{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "system:serviceaccounts:team"}),
	)
	jane := withAuthenticated(User{Name: "jane"})
	dev := withAuthenticated(User{Name: "dan", Groups: []string{"devs"}})
	at := func(u *User, verb, res, ns string) Attributes {
		return Attributes{User: u, ResourceRequest: true, Verb: verb, Resource: res, Namespace: ns, Name: "x"}
	}
	cases := []struct {
		at   Attributes
		want bool
	}{
		{at(jane, "get", "pods", "anywhere"), true},
		{at(jane, "get", "pods", ""), true},
		{at(jane, "delete", "pods", "team"), false},
		{at(dev, "list", "pods", "team"), true},
		{at(dev, "list", "pods", "other"), false},
		{at(dev, "list", "pods", ""), false},
		{at(saUser("team", "bot"), "get", "secrets", "team"), true},
		{at(saUser("other", "bot"), "get", "secrets", "team"), false},
		{at(saUser("ci", "runner"), "get", "secrets", "team"), true},
		{at(saUser("team", "runner"), "get", "secrets", "team"), false},
		{at(saUser("team", "any"), "get", "pods", "team"), true},
		{at(saUser("team", "any"), "get", "pods", "other"), false},
		{at(withAuthenticated(User{Name: "bot"}), "get", "secrets", "team"), false},
	}
	for i, c := range cases {
		if got, _, err := a.Authorize(context.Background(), c.at); got != c.want || err != nil {
			t.Errorf("case %d: %s %s %s in %q: got %t, %v", i, c.at.User.Name, c.at.Verb, c.at.Resource, c.at.Namespace, got, err)
		}
	}
}

// A denial carries kube's RBAC reason when a binding's role is missing;
// a node's denial keeps the Node authorizer's reason, and RBAC may still
// grant a node what its roles allow.
func TestRBACDenialReasons(t *testing.T) {
	a, _ := rbacAuthorizer(
		roleBinding("team", "dangling", "Role", "gone", userSubject("jane")),
		clusterRoleBinding("dangling", "missing", userSubject("jane")),
		clusterRole("ns-reader", rule(list("get"), list(""), list("namespaces"))),
		clusterRoleBinding("nodes-read-namespaces", "ns-reader", rbacv1.Subject{Kind: "Group", APIGroup: rbacv1.GroupName, Name: GroupNodes}),
	)
	jane := withAuthenticated(User{Name: "jane"})
	_, reason, _ := a.Authorize(context.Background(), Attributes{User: jane, ResourceRequest: true, Verb: "get", Resource: "pods", Namespace: "team", Name: "p"})
	want := `User "jane" cannot get resource "pods" in API group "" in the namespace "team": RBAC: [clusterrole.rbac.authorization.k8s.io "missing" not found, role.rbac.authorization.k8s.io "gone" not found]`
	if reason != want {
		t.Errorf("reason\n %s\nwant\n %s", reason, want)
	}
	_, reason, _ = a.Authorize(context.Background(), Attributes{User: jane, Verb: "get", Path: "/metrics"})
	if want := `User "jane" cannot get path "/metrics": RBAC: clusterrole.rbac.authorization.k8s.io "missing" not found`; reason != want {
		t.Errorf("reason\n %s\nwant\n %s", reason, want)
	}
	n1 := withAuthenticated(User{Name: "system:node:n1", Groups: []string{GroupNodes}})
	if ok, _, _ := a.Authorize(context.Background(), Attributes{User: n1, ResourceRequest: true, Verb: "get", Resource: "namespaces", Name: "default"}); !ok {
		t.Error("a node was refused what a ClusterRoleBinding to system:nodes grants")
	}
	_, reason, _ = a.Authorize(context.Background(), Attributes{User: n1, ResourceRequest: true, Verb: "get", Resource: "nodes", Name: "n2"})
	if want := `User "system:node:n1" cannot get resource "nodes" in API group "" at the cluster scope: node: node 'n1' cannot read 'n2', only its own Node object`; reason != want {
		t.Errorf("reason\n %s\nwant\n %s", reason, want)
	}
}

// Authorizing waits for the index's first full state.
func TestRBACWaitsForSync(t *testing.T) {
	x := NewRBACIndex()
	a := NewAuthorizer(&fakeGraph{})
	a.SetRBAC(x)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := a.Authorize(ctx, Attributes{User: withAuthenticated(User{Name: "jane"}), ResourceRequest: true, Verb: "get", Resource: "pods"}); err == nil {
		t.Fatal("authorized before the index was synced")
	}
	for _, res := range []string{ResClusterRoles, ResRoles, ResClusterRoleBindings} {
		x.Replace(res, nil)
	}
	if x.Synced() {
		t.Fatal("synced with one resource unread")
	}
	x.Replace(ResRoleBindings, nil)
	if !x.Synced() {
		t.Fatal("not synced with every resource read")
	}
}

// Concurrent changes and reads: every read sees a whole binding or none,
// and the final state is what the last changes made.
func TestRBACIndexConcurrentUpdates(t *testing.T) {
	a, x := rbacAuthorizer(clusterRole("pod-reader", rule(list("get"), list(""), list("pods"))))
	const users = 20
	var wg sync.WaitGroup
	for i := 0; i < users; i++ {
		wg.Add(2)
		name := fmt.Sprintf("u%d", i)
		b := roleBinding("team", name, "ClusterRole", "pod-reader", userSubject(name))
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				x.Set(b)
				if j%2 == 1 {
					x.Delete(b)
				}
			}
			x.Set(b)
		}()
		go func() {
			defer wg.Done()
			u := withAuthenticated(User{Name: name})
			for j := 0; j < 200; j++ {
				a.Authorize(context.Background(), Attributes{User: u, ResourceRequest: true, Verb: "get", Resource: "pods", Namespace: "team"})
			}
		}()
	}
	wg.Wait()
	for i := 0; i < users; i++ {
		u := withAuthenticated(User{Name: fmt.Sprintf("u%d", i)})
		if ok, _, _ := a.Authorize(context.Background(), Attributes{User: u, ResourceRequest: true, Verb: "get", Resource: "pods", Namespace: "team"}); !ok {
			t.Errorf("%s lost its binding", u.Name)
		}
	}
	x.Replace(ResRoleBindings, nil)
	if ok, _, _ := a.Authorize(context.Background(), Attributes{User: withAuthenticated(User{Name: "u0"}), ResourceRequest: true, Verb: "get", Resource: "pods", Namespace: "team"}); ok {
		t.Error("a binding outlived Replace")
	}
}

// Escalation: a user may grant only the rules they hold; the message is
// kube's, with the missing rules compacted.
func TestConfirmNoEscalation(t *testing.T) {
	_, x := rbacAuthorizer(
		clusterRole("pod-admin", rule(list("*"), list(""), list("pods", "*/log"))),
		role("team", "cm", rbacv1.PolicyRule{Verbs: list("get"), APIGroups: list(""), Resources: list("configmaps"), ResourceNames: list("a")}),
		clusterRoleBinding("jane", "pod-admin", userSubject("jane")),
		roleBinding("team", "jane-cm", "Role", "cm", userSubject("jane")),
	)
	jane := withAuthenticated(User{Name: "jane"})
	ok := [][]rbacv1.PolicyRule{
		{rule(list("get", "delete"), list(""), list("pods", "pods/log"))},
		{{Verbs: list("get"), APIGroups: list(""), Resources: list("configmaps"), ResourceNames: list("a")}},
	}
	for _, rules := range ok {
		if err := x.ConfirmNoEscalation(jane, "team", rules); err != nil {
			t.Errorf("%+v: %v", rules, err)
		}
	}
	err := x.ConfirmNoEscalation(jane, "", []rbacv1.PolicyRule{
		rule(list("get", "list"), list(""), list("pods", "secrets")),
		{Verbs: list("get"), APIGroups: list(""), Resources: list("configmaps")},
		{Verbs: list("get"), NonResourceURLs: list("/metrics")},
	})
	want := `user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["configmaps"], Verbs:["get"]}
{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}
{NonResourceURLs:["/metrics"], Verbs:["get"]}`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	if err := x.ConfirmNoEscalation(jane, "other", []rbacv1.PolicyRule{{Verbs: list("get"), APIGroups: list(""), Resources: list("configmaps"), ResourceNames: list("a")}}); err == nil || !strings.Contains(err.Error(), `ResourceNames:["a"]`) {
		t.Errorf("a Role's rules held in another namespace: %v", err)
	}
}
