package apiserver

import (
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func wantForbidden(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if !apierrors.IsForbidden(err) || err.Error() != msg {
		t.Errorf("%s:\n got  %v\n want 403 %s", what, err, msg)
	}
}

// The repro: a node credential creating a pod bound to itself in
// another namespace with a secret volume, to read that secret. Refused at
// both steps; its own mirror pod, owned by its Node, is accepted and gives
// it nothing.
func TestNodeCannotReachSecretsThroughPodsItCreates(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	admin, n1 := ts.admin(t), ts.node(t, "n1")
	mustCreateNS(t, ts, "victim")
	if _, err := admin.CoreV1().Secrets("victim").Create(bg, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		StringData: map[string]string{"password": "x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	self, err := n1.CoreV1().Nodes().Create(bg, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	thief := testPod("thief")
	thief.Spec.NodeName = "n1"
	thief.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "db"}}}}
	_, err = n1.CoreV1().Pods("victim").Create(bg, thief, metav1.CreateOptions{})
	wantForbidden(t, "pod with a secret", err, `pods "thief" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods`)
	thief.Annotations = map[string]string{"kubernetes.io/config.mirror": "x"}
	_, err = n1.CoreV1().Pods("victim").Create(bg, thief, metav1.CreateOptions{})
	wantForbidden(t, "mirror pod with a secret", err, `pods "thief" is forbidden: a mirror pod may not reference secrets`)
	_, err = n1.CoreV1().Secrets("victim").Get(bg, "db", metav1.GetOptions{})
	wantForbidden(t, "node reads the secret", err, `secrets "db" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "victim": node: no relationship found between node 'n1' and this object`)

	m := testPod("static-n1")
	m.Spec.NodeName = "n1"
	m.Annotations = map[string]string{"kubernetes.io/config.mirror": "h"}
	ctrl := true
	m.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "n1", UID: self.UID, Controller: &ctrl}}
	created, err := n1.CoreV1().Pods("victim").Create(bg, m, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("node's own mirror pod: %v", err)
	}
	if created.Spec.ServiceAccountName != "" {
		t.Errorf("mirror pod got service account %q", created.Spec.ServiceAccountName)
	}
	// An admin binding a secret-using pod to n1 gives n1 the secret; a
	// mirror pod naming it (admins may create those) does not.
	if _, err := admin.CoreV1().Secrets("victim").Create(bg, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mc := testPod("mirror-cm")
	mc.Spec.NodeName, mc.Annotations = "n1", map[string]string{"kubernetes.io/config.mirror": "h"}
	mc.Spec.Volumes = []corev1.Volume{{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}}}
	if _, err := admin.CoreV1().Pods("victim").Create(bg, mc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().ConfigMaps("victim").Create(bg, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = n1.CoreV1().ConfigMaps("victim").Get(bg, "cfg", metav1.GetOptions{})
	wantForbidden(t, "configmap of a mirror pod", err, `configmaps "cfg" is forbidden: User "system:node:n1" cannot get resource "configmaps" in API group "" in the namespace "victim": node: no relationship found between node 'n1' and this object`)
	app := testPod("app")
	app.Spec.NodeName = "n1"
	app.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}}}}
	if _, err := admin.CoreV1().Pods("victim").Create(bg, app, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.CoreV1().Secrets("victim").Get(bg, "app", metav1.GetOptions{}); err != nil {
		t.Errorf("node reads its pod's secret: %v", err)
	}
}

func mustCreateNS(t *testing.T, ts *testServer, name string) {
	t.Helper()
	if _, err := ts.admin(t).CoreV1().Namespaces().Create(bg, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// A node writes its own Node, Lease and pods only, and not the labels and
// taints that steer workloads; PATCH and PUT, of the object and of its
// status, all go through the same admission.
func TestNodeWritesOnlyWhatIsItsOwn(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	admin, n1 := ts.admin(t), ts.node(t, "n1")
	for _, n := range []string{"n1", "n2"} {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n},
			Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}}}}
		if _, err := admin.CoreV1().Nodes().Create(bg, node, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	nodes := n1.CoreV1().Nodes()
	_, err := nodes.Patch(bg, "n1", types.MergePatchType, []byte(`{"metadata":{"labels":{"node-role.kubernetes.io/control-plane":""}}}`), metav1.PatchOptions{})
	wantForbidden(t, "role label by patch", err, `nodes "n1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/control-plane`)
	_, err = nodes.Patch(bg, "n1", types.MergePatchType, []byte(`{"metadata":{"labels":{"node-restriction.kubernetes.io/pool":"a"}}}`), metav1.PatchOptions{}, "status")
	wantForbidden(t, "restriction label through status", err, `nodes "n1" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/pool`)
	self, err := nodes.Get(bg, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	untainted := self.DeepCopy()
	untainted.Spec.Taints = nil
	_, err = nodes.Update(bg, untainted, metav1.UpdateOptions{})
	wantForbidden(t, "taint removed by update", err, `nodes "n1" is forbidden: node "n1" is not allowed to modify taints`)
	_, err = nodes.UpdateStatus(bg, untainted, metav1.UpdateOptions{})
	wantForbidden(t, "taint removed through status", err, `nodes "n1" is forbidden: node "n1" is not allowed to modify taints`)
	if _, err := nodes.Patch(bg, "n1", types.MergePatchType, []byte(`{"metadata":{"labels":{"example.com/rack":"r1"}}}`), metav1.PatchOptions{}); err != nil {
		t.Errorf("a label of its own: %v", err)
	}
	_, err = nodes.Patch(bg, "n2", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	wantForbidden(t, "another node", err, `nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"`)
	_, err = nodes.Get(bg, "n2", metav1.GetOptions{})
	wantForbidden(t, "reading another node", err, `nodes "n2" is forbidden: User "system:node:n1" cannot get resource "nodes" in API group "" at the cluster scope: node: node 'n1' cannot read 'n2', only its own Node object`)
	err = nodes.Delete(bg, "n1", metav1.DeleteOptions{})
	wantForbidden(t, "deleting itself", err, `nodes "n1" is forbidden: User "system:node:n1" cannot delete resource "nodes" in API group "" at the cluster scope`)

	leases := n1.CoordinationV1().Leases("kube-node-lease")
	_, err = leases.Create(bg, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}, metav1.CreateOptions{})
	wantForbidden(t, "another node's lease", err, `leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node`)
	if _, err := leases.Create(bg, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{}); err != nil {
		t.Errorf("own lease: %v", err)
	}

	theirs := testPod("theirs")
	theirs.Spec.NodeName = "n2"
	if theirs, err = admin.CoreV1().Pods("default").Create(bg, theirs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	theirs.Status.Phase = corev1.PodFailed
	_, err = n1.CoreV1().Pods("default").UpdateStatus(bg, theirs, metav1.UpdateOptions{})
	wantForbidden(t, "another node's pod status", err, `pods "theirs" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself`)
	err = n1.CoreV1().Pods("default").Delete(bg, "theirs", metav1.DeleteOptions{})
	wantForbidden(t, "another node's pod", err, `pods "theirs" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself`)
	if _, err := admin.CoreV1().Pods("default").Get(bg, "theirs", metav1.GetOptions{}); err != nil {
		t.Errorf("the pod is gone: %v", err)
	}
}
