package apiserver

import (
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// eventuallyNoErr retries f until it returns nil or 10 s pass: the RBAC
// index follows storage by a watch.
func eventuallyNoErr(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func rbacSubject(kind, name string) rbacv1.Subject {
	s := rbacv1.Subject{Kind: kind, Name: name}
	if kind != rbacv1.ServiceAccountKind {
		s.APIGroup = rbacv1.GroupName
	}
	return s
}

func bindRole(ns, name, kind, role string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role}, Subjects: subjects}
}

// A service account's token gets exactly what its RoleBinding grants: the
// pods of its namespace, not its secrets nor other namespaces' pods, with
// kube-apiserver's 403 messages; deleting the binding takes it back.
func TestRBACServiceAccountGetsWhatItIsGranted(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	admin := ts.admin(t)
	if _, err := admin.CoreV1().Namespaces().Create(bg, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().ServiceAccounts("team").Create(bg, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "reader"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := admin.CoreV1().ServiceAccounts("team").CreateToken(bg, "reader", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sa := ts.bearer(t, tr.Status.Token)
	_, err = sa.CoreV1().Pods("team").List(bg, metav1.ListOptions{})
	wantForbidden(t, "before the binding", err, `pods is forbidden: User "system:serviceaccount:team:reader" cannot list resource "pods" in API group "" in the namespace "team"`)

	if _, err := admin.RbacV1().Roles("team").Create(bg, podReader("team"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := bindRole("team", "read-pods", "Role", "pod-reader", rbacSubject("ServiceAccount", "reader"))
	if _, err := admin.RbacV1().RoleBindings("team").Create(bg, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventuallyNoErr(t, "list pods once bound", func() error {
		_, err := sa.CoreV1().Pods("team").List(bg, metav1.ListOptions{})
		return err
	})
	_, err = sa.CoreV1().Secrets("team").List(bg, metav1.ListOptions{})
	wantForbidden(t, "secrets", err, `secrets is forbidden: User "system:serviceaccount:team:reader" cannot list resource "secrets" in API group "" in the namespace "team"`)
	_, err = sa.CoreV1().Pods("default").List(bg, metav1.ListOptions{})
	wantForbidden(t, "another namespace", err, `pods is forbidden: User "system:serviceaccount:team:reader" cannot list resource "pods" in API group "" in the namespace "default"`)
	_, err = sa.CoreV1().Pods("team").Create(bg, testPod("p"), metav1.CreateOptions{})
	wantForbidden(t, "create", err, `pods is forbidden: User "system:serviceaccount:team:reader" cannot create resource "pods" in API group "" in the namespace "team"`)

	if err := admin.RbacV1().Roles("team").Delete(bg, "pod-reader", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventuallyNoErr(t, "refused once the role is gone, with RBAC's reason", func() error {
		_, err := sa.CoreV1().Pods("team").List(bg, metav1.ListOptions{})
		if want := `pods is forbidden: User "system:serviceaccount:team:reader" cannot list resource "pods" in API group "" in the namespace "team": RBAC: role.rbac.authorization.k8s.io "pod-reader" not found`; err == nil || err.Error() != want {
			return errorString("got " + errText(err))
		}
		return nil
	})
}

func errText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// Escalation prevention as kube's RBAC registry: a user who may write
// roles and bindings grants only what they hold, unless allowed to
// "escalate" or to "bind" the role.
func TestRBACEscalationPrevention(t *testing.T) {
	ts := startReviewServer(t)
	admin := ts.admin(t)
	rbac := admin.RbacV1()
	manager := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "manager", Namespace: "default"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "rolebindings"}, Verbs: []string{"create", "update", "get"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
	}}
	secretReader := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "secret-reader", Namespace: "default"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}}}
	for _, r := range []*rbacv1.Role{manager, secretReader} {
		if _, err := rbac.Roles("default").Create(bg, r, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rbac.RoleBindings("default").Create(bg, bindRole("default", "bob-manages", "Role", "manager", rbacSubject("User", "bob")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bob := ts.withToken(t, "bob-token").RbacV1()
	eventuallyNoErr(t, "bob creates a role within his rights", func() error {
		_, err := bob.Roles("default").Create(bg, podReader("default"), metav1.CreateOptions{})
		return err
	})
	wantEscalation := `user "bob" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`
	mine := secretReader.DeepCopy()
	mine.Name = "bobs-secrets"
	_, err := bob.Roles("default").Create(bg, mine, metav1.CreateOptions{})
	wantForbidden(t, "a role with rules bob lacks", err, `roles.rbac.authorization.k8s.io "bobs-secrets" is forbidden: `+wantEscalation)
	pr, _ := bob.Roles("default").Get(bg, "pod-reader", metav1.GetOptions{})
	pr.Rules = append(pr.Rules, secretReader.Rules...)
	_, err = bob.Roles("default").Update(bg, pr, metav1.UpdateOptions{})
	wantForbidden(t, "an update adding rules bob lacks", err, `roles.rbac.authorization.k8s.io "pod-reader" is forbidden: `+wantEscalation)

	toBob := bindRole("default", "bob-reads-secrets", "Role", "secret-reader", rbacSubject("User", "bob"))
	_, err = bob.RoleBindings("default").Create(bg, toBob, metav1.CreateOptions{})
	wantForbidden(t, "binding a role bob does not hold", err, `rolebindings.rbac.authorization.k8s.io "bob-reads-secrets" is forbidden: `+wantEscalation)
	_, err = bob.RoleBindings("default").Create(bg, bindRole("default", "dangling", "Role", "nothing", rbacSubject("User", "bob")), metav1.CreateOptions{})
	wantForbidden(t, "binding a missing role", err, `rolebindings.rbac.authorization.k8s.io "dangling" is forbidden: role.rbac.authorization.k8s.io "nothing" not found`)
	_, err = bob.ClusterRoles().Create(bg, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("bob created a ClusterRole: %v", err)
	}

	grant := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "binder", Namespace: "default"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles"}, Verbs: []string{"bind"}, ResourceNames: []string{"secret-reader"}},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles"}, Verbs: []string{"escalate"}}}}
	if _, err := rbac.Roles("default").Create(bg, grant, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.RoleBindings("default").Create(bg, bindRole("default", "bob-binds", "Role", "binder", rbacSubject("User", "bob")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventuallyNoErr(t, "bind allowed by the bind verb", func() error {
		_, err := bob.RoleBindings("default").Create(bg, toBob, metav1.CreateOptions{})
		return err
	})
	if _, err := bob.Roles("default").Create(bg, mine, metav1.CreateOptions{}); err != nil {
		t.Errorf("escalate verb: %v", err)
	}
	if _, err := rbac.Roles("default").Create(bg, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "all", Namespace: "default"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}}, metav1.CreateOptions{}); err != nil {
		t.Errorf("system:masters is not refused: %v", err)
	}
}
