package apiserver

import (
	"slices"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

func createCM(t *testing.T, c kubernetes.Interface, name string, finalizers ...string) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: finalizers}}
	if _, err := c.CoreV1().ConfigMaps("default").Create(bg, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// markedWith checks the config map is still there, being deleted, with
// exactly these finalizers.
func markedWith(t *testing.T, c kubernetes.Interface, name string, finalizers ...string) {
	t.Helper()
	cm, err := c.CoreV1().ConfigMaps("default").Get(bg, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if cm.DeletionTimestamp == nil || !slices.Equal(cm.Finalizers, finalizers) {
		t.Fatalf("%s: deletionTimestamp %v finalizers %v, want set and %v", name, cm.DeletionTimestamp, cm.Finalizers, finalizers)
	}
}

func gone(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	if _, err := c.CoreV1().ConfigMaps("default").Get(bg, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("%s: want NotFound, got %v", name, err)
	}
}

func policy(p metav1.DeletionPropagation) metav1.DeleteOptions {
	return metav1.DeleteOptions{PropagationPolicy: &p}
}

// Each propagation policy as kube-apiserver: Background (and no policy)
// deletes at once, Orphan and Foreground mark the object and add their
// finalizer, the deprecated orphanDependents is Orphan (true) or
// Background (false), and a later delete changes an object's policy.
func TestDeletePropagationPolicies(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	cms := c.CoreV1().ConfigMaps("default")
	yes, no := true, false
	for _, n := range []string{"bg", "none", "orphan", "fg", "od-true", "od-false", "held"} {
		createCM(t, c, n)
	}
	must := func(name string, opts metav1.DeleteOptions) {
		t.Helper()
		if err := cms.Delete(bg, name, opts); err != nil {
			t.Fatalf("delete %s: %v", name, err)
		}
	}
	must("bg", policy(metav1.DeletePropagationBackground))
	gone(t, c, "bg")
	must("none", metav1.DeleteOptions{})
	gone(t, c, "none")
	must("orphan", policy(metav1.DeletePropagationOrphan))
	markedWith(t, c, "orphan", metav1.FinalizerOrphanDependents)
	must("fg", policy(metav1.DeletePropagationForeground))
	markedWith(t, c, "fg", metav1.FinalizerDeleteDependents)
	must("od-true", metav1.DeleteOptions{OrphanDependents: &yes})
	markedWith(t, c, "od-true", metav1.FinalizerOrphanDependents)
	must("od-false", metav1.DeleteOptions{OrphanDependents: &no})
	gone(t, c, "od-false")

	// A delete without a policy keeps the one the object has; a
	// foreground delete of an orphaned object swaps the finalizers.
	must("orphan", metav1.DeleteOptions{})
	markedWith(t, c, "orphan", metav1.FinalizerOrphanDependents)
	must("orphan", policy(metav1.DeletePropagationForeground))
	markedWith(t, c, "orphan", metav1.FinalizerDeleteDependents)
	// Background drops the garbage collection finalizers: nothing holds it.
	must("orphan", policy(metav1.DeletePropagationBackground))
	gone(t, c, "orphan")

	// Other finalizers stay, in their order, ahead of the collector's.
	cm, _ := cms.Get(bg, "held", metav1.GetOptions{})
	cm.Finalizers = []string{"example.com/hold"}
	if _, err := cms.Update(bg, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	must("held", policy(metav1.DeletePropagationOrphan))
	markedWith(t, c, "held", "example.com/hold", metav1.FinalizerOrphanDependents)
	must("held", policy(metav1.DeletePropagationBackground))
	markedWith(t, c, "held", "example.com/hold")

	// Removing the collector's finalizer releases the object, as the
	// garbage collector does when it is done.
	cm, _ = cms.Get(bg, "fg", metav1.GetOptions{})
	cm.Finalizers = nil
	if _, err := cms.Update(bg, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	gone(t, c, "fg")
}

// kubectl delete --cascade sends the policy in the body; other clients
// put it in the query. deletecollection honours it too.
func TestDeletePropagationQueryAndCollection(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	hc, host := rawClient(t, ts)
	base := host + "/api/v1/namespaces/default/configmaps"
	createCM(t, c, "q-orphan")
	createCM(t, c, "q-od")
	if code, body := rawBody(t, hc, "DELETE", base+"/q-orphan?propagationPolicy=Orphan", nil); code != 200 {
		t.Fatalf("query Orphan: %d %s", code, body)
	}
	markedWith(t, c, "q-orphan", metav1.FinalizerOrphanDependents)
	if code, body := rawBody(t, hc, "DELETE", base+"/q-od?orphanDependents=true", nil); code != 200 {
		t.Fatalf("query orphanDependents: %d %s", code, body)
	}
	markedWith(t, c, "q-od", metav1.FinalizerOrphanDependents)

	for _, n := range []string{"col-a", "col-b"} {
		createCM(t, c, n)
	}
	sel := metav1.ListOptions{}
	sel.FieldSelector = "metadata.name!=q-orphan,metadata.name!=q-od,metadata.name!=kube-root-ca.crt"
	if err := c.CoreV1().ConfigMaps("default").DeleteCollection(bg, policy(metav1.DeletePropagationForeground), sel); err != nil {
		t.Fatal(err)
	}
	markedWith(t, c, "col-a", metav1.FinalizerDeleteDependents)
	markedWith(t, c, "col-b", metav1.FinalizerDeleteDependents)
}

// Bad cascading options are kube's 422 on DeleteOptions, and the object
// stays as it was.
func TestDeletePropagationInvalid(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	hc, host := rawClient(t, ts)
	createCM(t, c, "x")
	url := host + "/api/v1/namespaces/default/configmaps/x"
	cases := []struct{ body, query, msg string }{
		{`{"propagationPolicy":"Sideways"}`, "",
			`DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"`},
		{`{"propagationPolicy":"Orphan","orphanDependents":false}`, "",
			`DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation cannot be both set`},
		{"", "?propagationPolicy=orphan",
			`DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "orphan": supported values: "Foreground", "Background", "Orphan", "nil"`},
	}
	for _, tc := range cases {
		code, st, _ := do(t, hc, "DELETE", url+tc.query, "application/json", []byte(tc.body))
		if code != 422 || st.Reason != "Invalid" || st.Message != tc.msg {
			t.Errorf("%s%s: %d %s %q\nwant 422 Invalid %q", tc.body, tc.query, code, st.Reason, st.Message, tc.msg)
		}
	}
	cm, err := c.CoreV1().ConfigMaps("default").Get(bg, "x", metav1.GetOptions{})
	if err != nil || cm.DeletionTimestamp != nil || len(cm.Finalizers) != 0 {
		t.Fatalf("a refused delete changed the object: %v %+v", err, cm)
	}
}

// A pod held by the foregroundDeletion finalizer goes when the finalizer
// is removed if its grace period is over (never scheduled, or its node
// has confirmed with grace 0), as kube-apiserver's delete during update;
// with grace left it waits for its node.
func TestPodReleasedWhenFinalizerGoesAfterGraceZero(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	pods := c.CoreV1().Pods("default")
	node := ts.node(t, "n1").CoreV1().Pods("default")
	zero := int64(0)
	for _, n := range []string{"unscheduled", "bound-early", "bound-late"} {
		if _, err := pods.Create(bg, testPod(n), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if n != "unscheduled" {
			b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: n}, Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}}
			if err := pods.Bind(bg, b, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := pods.Delete(bg, n, policy(metav1.DeletePropagationForeground)); err != nil {
			t.Fatal(err)
		}
	}
	release := func(name string) {
		t.Helper()
		if _, err := pods.Patch(bg, name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Fatalf("release %s: %v", name, err)
		}
	}
	podGone := func(name string) {
		t.Helper()
		if p, err := pods.Get(bg, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("%s: want gone, got %v %+v", name, err, p.ObjectMeta)
		}
	}
	release("unscheduled")
	podGone("unscheduled")

	// Released with grace left: it waits for its node's confirmation.
	release("bound-early")
	if p, err := pods.Get(bg, "bound-early", metav1.GetOptions{}); err != nil || p.DeletionTimestamp == nil {
		t.Fatalf("bound-early went before its node confirmed: %v", err)
	}
	if err := node.Delete(bg, "bound-early", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	podGone("bound-early")

	// The node confirms first: the finalizer holds it, its removal frees it.
	if err := node.Delete(bg, "bound-late", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	if p, err := pods.Get(bg, "bound-late", metav1.GetOptions{}); err != nil || *p.DeletionGracePeriodSeconds != 0 {
		t.Fatalf("bound-late: %v", err)
	}
	release("bound-late")
	podGone("bound-late")
}

// A batch/v1 Job deleted with no policy orphans its pods, as in kube
// (kubectl sends Background explicitly); a later delete without a policy
// keeps the finalizer the first one set, and Background deletes it.
func TestJobDeleteDefaultsToOrphan(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	jobs := ts.admin(t).BatchV1().Jobs("default")
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j"}, Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "img"}}}}}}
	if _, err := jobs.Create(bg, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := jobs.Delete(bg, "j", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := jobs.Get(bg, "j", metav1.GetOptions{})
		if err != nil || got.DeletionTimestamp == nil || !slices.Equal(got.Finalizers, []string{metav1.FinalizerOrphanDependents}) {
			t.Fatalf("job after a delete with no policy: %v, want it marked with the orphan finalizer", err)
		}
	}
	if err := jobs.Delete(bg, "j", policy(metav1.DeletePropagationBackground)); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Get(bg, "j", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("job after a background delete: %v", err)
	}
}
