//go:build linux && e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// RBAC with real kubectls: a ServiceAccount bound to a Role that reads
// pods in its namespace lists them with its token (kubectl create token)
// and is refused secrets and other namespaces with kube's message;
// kubectl auth can-i answers for the admin, for the token and for the
// admin impersonating the service account (--as); a user who
// may write roles cannot grant what they lack; the aggregated view role
// grows with a ClusterRole labelled to aggregate into it.
func TestRBACWithKubectl(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	for i, bin := range kubectls {
		t.Run(filepath.Base(bin), func(t *testing.T) {
			admin := &kctl{t: t, srv: srv, bin: bin, kubeconfig: srv.Kubeconfig(), dir: t.TempDir()}
			rbacScenario(t, admin, fmt.Sprintf("rbac-%d", i))
		})
	}
}

func rbacScenario(t *testing.T, admin *kctl, ns string) {
	sa := "system:serviceaccount:" + ns + ":reader"
	for _, c := range [][2]string{
		{"create namespace " + ns, "namespace/" + ns + " created"},
		{"create serviceaccount reader -n " + ns, "serviceaccount/reader created"},
		{"create role pod-reader --verb=get,list --resource=pods -n " + ns, "role.rbac.authorization.k8s.io/pod-reader created"},
		{"create role rbac-writer --verb=create,update --resource=roles,rolebindings -n " + ns, "role.rbac.authorization.k8s.io/rbac-writer created"},
		{"create clusterrole " + ns + "-node-reader --verb=get,list --resource=nodes", "clusterrole.rbac.authorization.k8s.io/" + ns + "-node-reader created"},
		{"create clusterrolebinding " + ns + "-jane --clusterrole=" + ns + "-node-reader --user=jane --group=ops --serviceaccount=" + ns + ":reader",
			"clusterrolebinding.rbac.authorization.k8s.io/" + ns + "-jane created"},
	} {
		if out := admin.ok("", strings.Fields(c[0])...); squash(out) != c[1] {
			t.Fatalf("kubectl %s: %q", c[0], out)
		}
	}
	for _, b := range []string{"pod-reader", "rbac-writer"} {
		out := admin.ok("", "create", "rolebinding", b, "--role="+b, "--serviceaccount="+ns+":reader", "-n", ns)
		if squash(out) != "rolebinding.rbac.authorization.k8s.io/"+b+" created" {
			t.Fatalf("create rolebinding: %q", out)
		}
	}
	checkRBACColumns(t, admin, ns)

	token := strings.TrimSpace(admin.ok("", "create", "token", "reader", "-n", ns))
	reader := &kctl{t: t, srv: admin.srv, bin: admin.bin, kubeconfig: tokenKubeconfig(t, admin.srv, token), dir: admin.dir}
	framework.Eventually(t, 10*time.Second, 100*time.Millisecond, "the token lists pods", func() error {
		_, errOut, err := reader.run("", "get", "pods", "-n", ns)
		if err != nil || !strings.Contains(errOut, "No resources found") {
			return fmt.Errorf("%v %s", err, errOut)
		}
		return nil
	})
	forbidden := map[string]string{
		"get secrets -n " + ns:    `Error from server (Forbidden): secrets is forbidden: User "` + sa + `" cannot list resource "secrets" in API group "" in the namespace "` + ns + `"`,
		"get pods -n default":     `Error from server (Forbidden): pods is forbidden: User "` + sa + `" cannot list resource "pods" in API group "" in the namespace "default"`,
		"delete pod web -n " + ns: `Error from server (Forbidden): pods "web" is forbidden: User "` + sa + `" cannot delete resource "pods" in API group "" in the namespace "` + ns + `"`,
	}
	for args, want := range forbidden {
		if got := reader.fails("", strings.Fields(args)...); got != want {
			t.Errorf("kubectl %s as the service account:\n got %q\nwant %q", args, got, want)
		}
	}
	checkCanI(t, admin, reader, ns)

	got := reader.fails("", "create", "role", "secret-reader", "--verb=get", "--resource=secrets", "-n", ns)
	want := `Error from server (Forbidden): roles.rbac.authorization.k8s.io "secret-reader" is forbidden: user "` + sa +
		`" (groups=["system:serviceaccounts" "system:serviceaccounts:` + ns + `" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`
	if got != want {
		t.Errorf("escalation:\n got %q\nwant %q", got, want)
	}
	got = reader.fails("", "create", "rolebinding", "steal", "--clusterrole=admin", "--serviceaccount="+ns+":reader", "-n", ns)
	if !strings.Contains(got, `rolebindings.rbac.authorization.k8s.io "steal" is forbidden: user "`+sa+`"`) || !strings.Contains(got, "is attempting to grant RBAC permissions not currently held") {
		t.Errorf("binding admin: %q", got)
	}
	if out := reader.ok("", "create", "role", "pods-too", "--verb=get", "--resource=pods", "-n", ns); squash(out) != "role.rbac.authorization.k8s.io/pods-too created" {
		t.Errorf("a role within the service account's rights: %q", out)
	}
	checkAggregation(t, admin, ns)
}

// checkRBACColumns: kubectl get shows kube-apiserver's columns.
func checkRBACColumns(t *testing.T, admin *kctl, ns string) {
	out := admin.ok("", "get", "roles,rolebindings", "-n", ns)
	for _, want := range []string{"NAME CREATED AT", "role.rbac.authorization.k8s.io/pod-reader ", "NAME ROLE AGE",
		"rolebinding.rbac.authorization.k8s.io/pod-reader Role/pod-reader "} {
		if !strings.Contains(squash(out), want) {
			t.Errorf("get roles,rolebindings lacks %q:\n%s", want, out)
		}
	}
	out = admin.ok("", "get", "rolebinding", "pod-reader", "-n", ns, "-o", "wide")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 ||
		squash(lines[0]) != "NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS" || !strings.HasSuffix(squash(lines[1]), ns+"/reader") {
		t.Errorf("get rolebinding -o wide:\n%s", out)
	}
	out = admin.ok("", "get", "clusterrolebinding", ns+"-jane", "-o", "wide")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 ||
		!strings.HasPrefix(squash(lines[1]), ns+"-jane ClusterRole/"+ns+"-node-reader ") || !strings.HasSuffix(squash(lines[1]), "jane ops "+ns+"/reader") {
		t.Errorf("get clusterrolebinding -o wide:\n%s", out)
	}
	out = admin.ok("", "get", "clusterroles,clusterrolebindings")
	for _, want := range []string{"clusterrole.rbac.authorization.k8s.io/cluster-admin ", "clusterrole.rbac.authorization.k8s.io/view ",
		"clusterrolebinding.rbac.authorization.k8s.io/cluster-admin ClusterRole/cluster-admin "} {
		if !strings.Contains(squash(out), want) {
			t.Errorf("get clusterroles,clusterrolebindings lacks %q:\n%s", want, out)
		}
	}
}

// checkCanI: kubectl auth can-i and can-i --list, for the admin, the
// service account's token, and the admin as the service account.
func checkCanI(t *testing.T, admin, reader *kctl, ns string) {
	cases := []struct {
		k    *kctl
		args string
		want string
	}{
		{admin, "auth can-i * *", "yes"},
		{admin, "auth can-i delete nodes", "yes"},
		{reader, "auth can-i list pods -n " + ns, "yes"},
		{reader, "auth can-i get secrets -n " + ns, "no"},
		{reader, "auth can-i list pods -n default", "no"},
		{reader, "auth can-i create roles -n " + ns, "yes"},
		{reader, "auth can-i list nodes", "yes"}, // the ClusterRoleBinding
		{admin, "auth can-i list pods -n " + ns + " --as=system:serviceaccount:" + ns + ":reader", "yes"},
		{admin, "auth can-i get secrets -n " + ns + " --as=system:serviceaccount:" + ns + ":reader", "no"},
		{admin, "auth can-i delete nodes --as=system:serviceaccount:" + ns + ":reader", "no"},
	}
	for _, c := range cases {
		out, _, err := c.k.run("", strings.Fields(c.args)...)
		if strings.TrimSpace(out) != c.want || (err == nil) != (c.want == "yes") {
			t.Errorf("kubectl %s: %q %v, want %s", c.args, out, err, c.want)
		}
	}
	// the service account may not impersonate anyone
	if got := reader.fails("", "get", "pods", "-n", ns, "--as=jane"); got != `Error from server (Forbidden): users "jane" is forbidden: User "system:serviceaccount:`+ns+`:reader" cannot impersonate resource "users" in API group "" at the cluster scope` {
		t.Errorf("impersonation without the verb: %q", got)
	}
	out := reader.ok("", "auth", "can-i", "--list", "-n", ns)
	for _, want := range []string{"Resources Non-Resource URLs Resource Names Verbs", "pods [] [] [get list]",
		"selfsubjectaccessreviews.authorization.k8s.io [] [] [create]", "[/api/*] [] [get]"} {
		if !strings.Contains(squash(out), want) {
			t.Errorf("can-i --list lacks %q:\n%s", want, out)
		}
	}
}

// checkAggregation: view grows with a ClusterRole labelled to aggregate
// into it.
func checkAggregation(t *testing.T, admin *kctl, ns string) {
	name := ns + "-widgets"
	manifest := `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ` + name + `
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
- apiGroups: [` + ns + `.example.com]
  resources: [widgets]
  verbs: [get, list, watch]
`
	admin.ok(manifest, "apply", "-f", "-")
	t.Cleanup(func() { admin.run("", "delete", "clusterrole", name) })
	framework.Eventually(t, 10*time.Second, 100*time.Millisecond, "view aggregates "+name, func() error {
		out := admin.ok("", "get", "clusterrole", "view", "-o", "jsonpath={.rules[*].apiGroups}")
		if !strings.Contains(out, ns+".example.com") {
			return fmt.Errorf("view's groups: %s", out)
		}
		return nil
	})
}

// rbacTargets are the authorization matrix's RBAC objects and reviews.
func rbacTargets() map[string]target {
	group := "/apis/rbac.authorization.k8s.io/v1/"
	get := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}}
	ref := func(kind, name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
	}
	subjects := []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "matrix-user"}}
	review := func(kind string, spec map[string]any) func(*fixtures, string) any {
		return func(*fixtures, string) any {
			return map[string]any{"apiVersion": "authorization.k8s.io/v1", "kind": kind, "spec": spec}
		}
	}
	return map[string]target{
		"roles": {collection: group + "namespaces/" + matrixNS + "/roles", fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{&rbacv1.Role{ObjectMeta: objectMeta(matrixNS, n), Rules: get}}
		}},
		"rolebindings": {collection: group + "namespaces/" + matrixNS + "/rolebindings", fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{&rbacv1.RoleBinding{ObjectMeta: objectMeta(matrixNS, n), RoleRef: ref("ClusterRole", "view"), Subjects: subjects}}
		}},
		"clusterroles": {collection: group + "clusterroles", fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{&rbacv1.ClusterRole{ObjectMeta: objectMeta("", n), Rules: get}}
		}},
		"clusterrolebindings": {collection: group + "clusterrolebindings", fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{&rbacv1.ClusterRoleBinding{ObjectMeta: objectMeta("", n), RoleRef: ref("ClusterRole", "view"), Subjects: subjects}}
		}},
		"selfsubjectaccessreviews": {collection: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
			body: review("SelfSubjectAccessReview", map[string]any{"resourceAttributes": map[string]any{"verb": "get", "resource": "pods"}})},
		"selfsubjectrulesreviews": {collection: "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
			body: review("SelfSubjectRulesReview", map[string]any{"namespace": matrixNS})},
		"localsubjectaccessreviews": {collection: "/apis/authorization.k8s.io/v1/namespaces/" + matrixNS + "/localsubjectaccessreviews",
			body: review("LocalSubjectAccessReview", map[string]any{"user": "matrix-user",
				"resourceAttributes": map[string]any{"verb": "get", "resource": "pods", "namespace": matrixNS}})},
	}
}

// rbacRows: nodes get no RBAC role, so every verb on the RBAC objects is
// 403 for them (kube binds system:node to no one); the admin may do all.
func rbacRows() []verbRow {
	var rows []verbRow
	for _, res := range []string{"roles", "rolebindings", "clusterroles", "clusterrolebindings"} {
		for _, verb := range []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"} {
			admin := 200
			if verb == "create" {
				admin = 201
			}
			rows = append(rows, verbRow{res, verb, c(403, 403, admin)})
		}
	}
	// kube's admin role grants it in a namespace; nodes have no role.
	return append(rows, verbRow{"localsubjectaccessreviews", "create", c(403, 403, 201)})
}

// createRBAC creates an RBAC fixture of the matrix.
func (f *fixtures) createRBAC(o runtime.Object) error {
	rbac, opts := f.c.RbacV1(), metav1.CreateOptions{}
	var err error
	switch o := o.(type) {
	case *rbacv1.Role:
		_, err = rbac.Roles(o.Namespace).Create(f.ctx, o, opts)
	case *rbacv1.RoleBinding:
		_, err = rbac.RoleBindings(o.Namespace).Create(f.ctx, o, opts)
	case *rbacv1.ClusterRole:
		_, err = rbac.ClusterRoles().Create(f.ctx, o, opts)
	case *rbacv1.ClusterRoleBinding:
		_, err = rbac.ClusterRoleBindings().Create(f.ctx, o, opts)
	default:
		err = fmt.Errorf("no fixture of type %T", o)
	}
	return err
}
