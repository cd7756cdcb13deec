package apiserver

import (
	"bytes"
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// getPath GETs path (with ?debug=1 when debug) with c's credentials and
// returns the status code and body.
func getPath(c kubernetes.Interface, path string, debug bool) (int, []byte) {
	var code int
	req := c.Discovery().RESTClient().Get().AbsPath(path)
	if debug {
		req = req.Param("debug", "1")
	}
	body, _ := req.Do(context.Background()).StatusCode(&code).Raw()
	return code, body
}

// /debug/pprof/ is served as kube-apiserver's --profiling serves it: to
// whom RBAC grants the path (system:masters, cluster-admin), never to a
// node, a reader with view, or anybody when profiling is off.
func TestProfilingIsForAdminsOnly(t *testing.T) {
	ts := startReviewServer(t)
	admin := ts.admin(t)
	if _, err := admin.RbacV1().RoleBindings("default").Create(bg, bindRole("default", "bob-views", "ClusterRole", "view", rbacSubject("User", "bob")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if code, body := getPath(admin, "/debug/pprof/heap", true); code != 200 || !bytes.Contains(body, []byte("heap profile:")) {
		t.Errorf("admin's heap profile: %d %.80q", code, body)
	}
	if code, body := getPath(admin, "/debug/pprof/", false); code != 200 || !bytes.Contains(body, []byte("goroutine")) {
		t.Errorf("admin's profile index: %d %.80q", code, body)
	}
	for who, c := range map[string]kubernetes.Interface{"a node": ts.node(t, "n1"), "bob (view)": ts.withToken(t, "bob-token")} {
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline", "/debug/pprof/goroutine"} {
			if code, body := getPath(c, path, true); code != 403 {
				t.Errorf("%s GET %s: %d %.80q, want 403", who, path, code, body)
			}
		}
	}
	// A user RBAC grants the path gets it, as in kube.
	if _, err := admin.RbacV1().ClusterRoles().Create(bg, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "profiler"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/debug/pprof/*"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(bg, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "olga-profiles"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "profiler"},
		Subjects: []rbacv1.Subject{rbacSubject("User", "olga")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	olga := ts.withToken(t, "ops-token")
	eventuallyNoErr(t, "olga may read the heap profile", func() error {
		if code, _ := getPath(olga, "/debug/pprof/heap", true); code != 200 {
			return errorString("status " + itoa(code))
		}
		return nil
	})

	off := startServerWith(t, t.TempDir(), 0, func(c *Config) { c.Profiling = false })
	if code, body := getPath(off.admin(t), "/debug/pprof/heap", true); code != 404 {
		t.Errorf("--profiling=false: admin's heap profile: %d %.80q, want 404", code, body)
	}
}
