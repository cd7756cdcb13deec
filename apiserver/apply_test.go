package apiserver

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
)

func webApply(name string, replicas int32, labels map[string]string) *appsv1ac.DeploymentApplyConfiguration {
	return appsv1ac.Deployment(name, "default").
		WithLabels(labels).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(replicas).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(webLabels())).
			WithTemplate(corev1ac.PodTemplateSpec().WithLabels(webLabels()).
				WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().WithName("c").WithImage("nginx").
					WithPorts(corev1ac.ContainerPort().WithContainerPort(80))))))
}

func managerOf(d *appsv1.Deployment, manager string, op metav1.ManagedFieldsOperationType) *metav1.ManagedFieldsEntry {
	for i, e := range d.ManagedFields {
		if e.Manager == manager && e.Operation == op {
			return &d.ManagedFields[i]
		}
	}
	return nil
}

// Server-side apply through client-go: an apply creates the object, a second
// manager's apply of a field the first owns is a 409 naming the manager and
// field, force takes the field over, and a field left out of the next
// applied configuration is removed.
func TestApplyConflictsForceAndRemoval(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	deps := ts.admin(t).AppsV1().Deployments("default")

	d, err := deps.Apply(bg, webApply("web", 2, map[string]string{"a": "1", "b": "2"}), metav1.ApplyOptions{FieldManager: "alice"})
	if err != nil {
		t.Fatalf("create on apply: %v", err)
	}
	if *d.Spec.Replicas != 2 || d.Labels["b"] != "2" || d.Spec.Template.Spec.Containers[0].Ports[0].Protocol != corev1.ProtocolTCP {
		t.Fatalf("applied deployment: %+v", d)
	}
	if managerOf(d, "alice", metav1.ManagedFieldsOperationApply) == nil {
		t.Fatalf("no Apply entry for alice: %+v", d.ManagedFields)
	}

	_, err = deps.Apply(bg, appsv1ac.Deployment("web", "default").WithSpec(appsv1ac.DeploymentSpec().WithReplicas(5)), metav1.ApplyOptions{FieldManager: "bob"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `Apply failed with 1 conflict: conflict with "alice": .spec.replicas`) {
		t.Fatalf("conflicting apply: %v", err)
	}
	d, err = deps.Apply(bg, appsv1ac.Deployment("web", "default").WithSpec(appsv1ac.DeploymentSpec().WithReplicas(5)), metav1.ApplyOptions{FieldManager: "bob", Force: true})
	if err != nil || *d.Spec.Replicas != 5 {
		t.Fatalf("forced apply: %v %+v", err, d)
	}

	// alice no longer owns replicas: leaving it out keeps bob's 5; leaving
	// out label b removes it.
	cfg := webApply("web", 0, map[string]string{"a": "1"})
	cfg.Spec.Replicas = nil
	d, err = deps.Apply(bg, cfg, metav1.ApplyOptions{FieldManager: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Labels["b"]; ok || d.Labels["a"] != "1" || *d.Spec.Replicas != 5 {
		t.Fatalf("after alice's smaller apply: labels %v replicas %d", d.Labels, *d.Spec.Replicas)
	}
	got, err := deps.Get(bg, "web", metav1.GetOptions{})
	if err != nil || len(got.ManagedFields) == 0 {
		t.Fatalf("get keeps managed fields: %v %+v", err, got.ManagedFields)
	}
}

// Writes other than apply are recorded as Update entries of the
// fieldManager parameter's manager, or of the user agent's first word.
func TestUpdatesRecordManagedFields(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	deps := ts.admin(t).AppsV1().Deployments("default")
	d, err := deps.Create(bg, testDeployment("web"), metav1.CreateOptions{FieldManager: "maker"})
	if err != nil {
		t.Fatal(err)
	}
	if managerOf(d, "maker", metav1.ManagedFieldsOperationUpdate) == nil {
		t.Fatalf("create: %+v", d.ManagedFields)
	}
	d, err = deps.Patch(bg, "web", types.MergePatchType, []byte(`{"metadata":{"labels":{"p":"q"}}}`), metav1.PatchOptions{FieldManager: "patcher"})
	if err != nil || managerOf(d, "patcher", metav1.ManagedFieldsOperationUpdate) == nil || managerOf(d, "maker", metav1.ManagedFieldsOperationUpdate) == nil {
		t.Fatalf("patch: %v %+v", err, d.ManagedFields)
	}
	d.Spec.Replicas = ptr(int32(3))
	d, err = deps.Update(bg, d, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// client-go's default user agent is "<binary>/<version> (...)".
	found := false
	for _, e := range d.ManagedFields {
		found = found || e.Operation == metav1.ManagedFieldsOperationUpdate && strings.HasPrefix(e.Manager, "apiserver.test")
	}
	if !found {
		t.Fatalf("update by user agent: %+v", d.ManagedFields)
	}

	// The status subresource: an apply there owns status only.
	st := appsv1ac.Deployment("web", "default").WithStatus(appsv1ac.DeploymentStatus().WithReplicas(1))
	d, err = deps.ApplyStatus(bg, st, metav1.ApplyOptions{FieldManager: "ctl"})
	if err != nil || d.Status.Replicas != 1 || *d.Spec.Replicas != 3 {
		t.Fatalf("status apply: %v %+v", err, d)
	}
	e := managerOf(d, "ctl", metav1.ManagedFieldsOperationApply)
	if e == nil || e.Subresource != "status" {
		t.Fatalf("status apply entry: %+v", d.ManagedFields)
	}
	if _, err := deps.ApplyStatus(bg, appsv1ac.Deployment("nothere", "default").WithStatus(appsv1ac.DeploymentStatus().WithReplicas(1)), metav1.ApplyOptions{FieldManager: "ctl"}); !apierrors.IsNotFound(err) {
		t.Fatalf("status apply of a missing object: %v", err)
	}
}

// An apply without fieldManager is kube's 422 on PatchOptions; force on
// another patch type is refused too; a dry-run apply creates nothing.
func TestApplyOptions(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t).CoreV1().RESTClient()
	body := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n")
	err := c.Patch(types.ApplyPatchType).Namespace("default").Resource("configmaps").Name("cm").Body(body).Do(bg).Error()
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "fieldManager: Required value: is required for apply patch") {
		t.Fatalf("apply without fieldManager: %v", err)
	}
	err = c.Patch(types.MergePatchType).Namespace("default").Resource("configmaps").Name("cm").Param("force", "true").Body([]byte(`{}`)).Do(bg).Error()
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "force: Forbidden: may not be specified for non-apply patch") {
		t.Fatalf("force on a merge patch: %v", err)
	}
	var code int
	err = c.Patch(types.ApplyPatchType).Namespace("default").Resource("configmaps").Name("cm").Param("fieldManager", "m").Param("dryRun", "All").Body(body).Do(bg).StatusCode(&code).Error()
	if err != nil || code != http.StatusCreated {
		t.Fatalf("dry-run apply: %d %v", code, err)
	}
	if _, err := ts.admin(t).CoreV1().ConfigMaps("default").Get(bg, "cm", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("dry-run apply stored the object: %v", err)
	}
	err = c.Patch(types.ApplyPatchType).Namespace("default").Resource("configmaps").Name("other").Param("fieldManager", "m").Body(body).Do(bg).Error()
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "does not match the name on the URL") {
		t.Fatalf("apply of another name: %v", err)
	}
	err = c.Patch(types.ApplyPatchType).Namespace("default").Resource("configmaps").Name("cm").Param("fieldManager", "m").Body([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\nnosuch: 1\n")).Do(bg).Error()
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("apply of an unknown field: %v", err)
	}
}

// Every stored resource the server serves has a schema in the models, so
// none falls back to the 415 for kinds without one.
func TestEveryResourceHasAnApplySchema(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	for _, r := range ts.srv.reg.list {
		if r.virtual {
			continue
		}
		for _, sub := range []string{"", "status"} {
			fm, err := ts.srv.fields.forResource(r, sub)
			if err != nil || fm == nil {
				t.Errorf("%s %q: no field manager (%v)", r.gvk, sub, err)
			}
		}
	}
}

// A manager name over 128 characters or an unknown dryRun value is kube's
// 422 on the write's options, for creates and updates too.
func TestWriteOptionsAreChecked(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	cms := ts.admin(t).CoreV1().ConfigMaps("default")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}
	_, err := cms.Create(bg, cm, metav1.CreateOptions{FieldManager: strings.Repeat("m", 129)})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "CreateOptions") || !strings.Contains(err.Error(), "fieldManager") {
		t.Fatalf("create with a long manager: %v", err)
	}
	cm, err = cms.Create(bg, cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cms.Update(bg, cm, metav1.UpdateOptions{DryRun: []string{"Some"}})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "UpdateOptions") || !strings.Contains(err.Error(), "dryRun") {
		t.Fatalf("update with a bad dryRun: %v", err)
	}
}

// An apply that would create needs the create verb besides patch (kube's
// create on update): a user who may only patch configmaps is refused 403
// and nothing is made, and may apply to one that exists.
func TestApplyCreateNeedsCreate(t *testing.T) {
	ts := startReviewServer(t)
	admin := ts.admin(t)
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "cm-patcher", Namespace: "default"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "patch"}}}}
	if _, err := admin.RbacV1().Roles("default").Create(bg, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings("default").Create(bg, bindRole("default", "bob-patches", "Role", "cm-patcher", rbacSubject("User", "bob")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bob := ts.bearer(t, "bob-token").CoreV1().ConfigMaps("default")
	eventuallyNoErr(t, "bob may patch configmaps", func() error {
		_, err := bob.Patch(bg, "cm", types.MergePatchType, []byte(`{}`), metav1.PatchOptions{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("patch of a missing configmap: %v", err)
		}
		return nil
	})
	cfg := corev1ac.ConfigMap("cm", "default").WithData(map[string]string{"k": "v"})
	_, err := bob.Apply(bg, cfg, metav1.ApplyOptions{FieldManager: "bob"})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `configmaps "cm" is forbidden: User "bob" cannot create resource "configmaps"`) {
		t.Fatalf("apply creating without create: %v", err)
	}
	if _, err := admin.CoreV1().ConfigMaps("default").Get(bg, "cm", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("refused apply made the object: %v", err)
	}
	if _, err := admin.CoreV1().ConfigMaps("default").Create(bg, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := bob.Apply(bg, cfg, metav1.ApplyOptions{FieldManager: "bob"})
	if err != nil || got.Data["k"] != "v" {
		t.Fatalf("apply to an existing object with patch: %v %+v", err, got)
	}
}

// A write of the scale subresource takes spec.replicas from the manager
// that applied it, as kube's: the applier's next apply of replicas
// conflicts with the scaler.
func TestScaleTakesReplicasOwnership(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	deps := ts.admin(t).AppsV1().Deployments("default")
	if _, err := deps.Apply(bg, webApply("web", 2, nil), metav1.ApplyOptions{FieldManager: "alice"}); err != nil {
		t.Fatal(err)
	}
	sc, err := deps.GetScale(bg, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Spec.Replicas = 4
	if _, err := deps.UpdateScale(bg, "web", sc, metav1.UpdateOptions{FieldManager: "scaler"}); err != nil {
		t.Fatal(err)
	}
	_, err = deps.Apply(bg, webApply("web", 2, nil), metav1.ApplyOptions{FieldManager: "alice"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `conflict with "scaler" with subresource "scale" using apps/v1`) || !strings.Contains(err.Error(), ".spec.replicas") {
		t.Fatalf("apply after scale: %v", err)
	}
}
