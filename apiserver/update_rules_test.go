package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// wantInvalid checks a 422 and its whole message.
func expectInvalid(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if !apierrors.IsInvalid(err) || err.Error() != msg {
		t.Errorf("%s:\n got  %v\n want 422 %s", what, err, msg)
	}
}

// Updates run kube's update validation, not only the create rules: an
// immutable Secret or ConfigMap keeps its data and stays immutable, a
// Secret keeps its type, a Node keeps its pod CIDRs and provider ID.
func TestUpdateValidation(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	yes := true
	sec, err := c.CoreV1().Secrets("default").Create(bg, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"},
		Immutable: &yes, Data: map[string][]byte{"k": []byte("v")}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	frozen := "Forbidden: field is immutable when `immutable` is set"
	changed := sec.DeepCopy()
	changed.Data["k"] = []byte("w")
	_, err = c.CoreV1().Secrets("default").Update(bg, changed, metav1.UpdateOptions{})
	expectInvalid(t, "immutable secret data", err, `Secret "s" is invalid: data: `+frozen)
	_, err = c.CoreV1().Secrets("default").Patch(bg, "s", types.MergePatchType, []byte(`{"stringData":{"k":"x"}}`), metav1.PatchOptions{})
	expectInvalid(t, "immutable secret stringData", err, `Secret "s" is invalid: data: `+frozen)
	_, err = c.CoreV1().Secrets("default").Patch(bg, "s", types.MergePatchType, []byte(`{"immutable":null}`), metav1.PatchOptions{})
	expectInvalid(t, "immutable secret made mutable", err, `Secret "s" is invalid: immutable: `+frozen)
	_, err = c.CoreV1().Secrets("default").Patch(bg, "s", types.MergePatchType, []byte(`{"type":"example.com/other"}`), metav1.PatchOptions{})
	expectInvalid(t, "secret type", err, `Secret "s" is invalid: type: Invalid value: "example.com/other": field is immutable`)

	_, err = c.CoreV1().ConfigMaps("default").Create(bg, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"},
		Immutable: &yes, BinaryData: map[string][]byte{"b": {1}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CoreV1().ConfigMaps("default").Patch(bg, "cm", types.MergePatchType, []byte(`{"binaryData":{"b":"Ag=="}}`), metav1.PatchOptions{})
	expectInvalid(t, "immutable config map binaryData", err, `ConfigMap "cm" is invalid: binaryData: `+frozen)
	_, err = c.CoreV1().ConfigMaps("default").Patch(bg, "cm", types.MergePatchType, []byte(`{"immutable":false}`), metav1.PatchOptions{})
	expectInvalid(t, "immutable config map made mutable", err, `ConfigMap "cm" is invalid: immutable: `+frozen)

	testNodeUpdateValidation(t, c)
}

func testNodeUpdateValidation(t *testing.T, c kubernetes.Interface) {
	t.Helper()
	_, err := c.CoreV1().Nodes().Create(bg, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"},
		Spec: corev1.NodeSpec{PodCIDR: "10.244.1.0/24", PodCIDRs: []string{"10.244.1.0/24"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CoreV1().Nodes().Patch(bg, "n1", types.MergePatchType, []byte(`{"spec":{"podCIDR":"10.244.2.0/24","podCIDRs":["10.244.2.0/24"]}}`), metav1.PatchOptions{})
	expectInvalid(t, "node podCIDR", err, `Node "n1" is invalid: spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid`)
	for _, p := range []string{`{"spec":{"providerID":"lab://n1"}}`, `{"spec":{"unschedulable":true,"taints":[{"key":"k","effect":"NoSchedule"}]}}`} {
		if _, err := c.CoreV1().Nodes().Patch(bg, "n1", types.MergePatchType, []byte(p), metav1.PatchOptions{}); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	_, err = c.CoreV1().Nodes().Patch(bg, "n1", types.MergePatchType, []byte(`{"spec":{"providerID":"lab://other"}}`), metav1.PatchOptions{})
	expectInvalid(t, "node providerID", err, `Node "n1" is invalid: spec.providerID: Forbidden: node updates may not change providerID except from "" to valid`)
}

// A pod's status subresource keeps the spec and, as kube's pod status
// strategy does, the ownerReferences; the mirror pod annotation is fixed at
// creation on every path.
func TestPodStatusUpdateKeepsOwnerReferences(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	pods := ts.admin(t).CoreV1().Pods("default")
	p := testPod("owned")
	ctrl := true
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ReplicationController", Name: "rc", UID: "u-1", Controller: &ctrl}}
	p, err := pods.Create(bg, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	next := p.DeepCopy()
	next.OwnerReferences = nil
	next.Labels["tier"] = "front"
	next.Spec.Containers[0].Image = "changed:1"
	next.Status.Phase = corev1.PodRunning
	got, err := pods.UpdateStatus(bg, next, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.OwnerReferences) != 1 || got.OwnerReferences[0].UID != "u-1" {
		t.Errorf("status update changed ownerReferences: %+v", got.OwnerReferences)
	}
	if got.Spec.Containers[0].Image != p.Spec.Containers[0].Image || got.Status.Phase != corev1.PodRunning || got.Labels["tier"] != "front" {
		t.Errorf("status update: image %q phase %q labels %v", got.Spec.Containers[0].Image, got.Status.Phase, got.Labels)
	}
	patch := []byte(`{"metadata":{"annotations":{"kubernetes.io/config.mirror":"h"}}}`)
	_, err = pods.Patch(bg, "owned", types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	expectInvalid(t, "mirror annotation added through status", err,
		`Pod "owned" is invalid: metadata.annotations[kubernetes.io/config.mirror]: Forbidden: may not add mirror pod annotation`)
	_, err = pods.Patch(bg, "owned", types.MergePatchType, patch, metav1.PatchOptions{})
	expectInvalid(t, "mirror annotation added", err,
		`Pod "owned" is invalid: metadata.annotations[kubernetes.io/config.mirror]: Forbidden: may not add mirror pod annotation`)
}

// A verb a subresource does not serve is 405, and touches nothing: DELETE
// of pods/x/status deleted the pod itself. Namespaces serve no
// deletecollection (it started deleting every namespace).
func TestUnservedVerbsAre405(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	if _, err := c.CoreV1().Pods("default").Create(bg, testPod("keep"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rc := c.CoreV1().RESTClient()
	for what, err := range map[string]error{
		"DELETE pods/keep/status":        rc.Delete().Namespace("default").Resource("pods").Name("keep").SubResource("status").Do(bg).Error(),
		"DELETE pods/keep/binding":       rc.Delete().Namespace("default").Resource("pods").Name("keep").SubResource("binding").Do(bg).Error(),
		"PUT pods/keep/log":              rc.Put().Namespace("default").Resource("pods").Name("keep").SubResource("log").Body([]byte("{}")).Do(bg).Error(),
		"DELETE namespaces (collection)": rc.Delete().Resource("namespaces").Do(bg).Error(),
	} {
		if !apierrors.IsMethodNotSupported(err) {
			t.Errorf("%s: %v, want 405", what, err)
		}
	}
	if _, err := c.CoreV1().Pods("default").Get(bg, "keep", metav1.GetOptions{}); err != nil {
		t.Errorf("the pod: %v", err)
	}
	for _, ns := range []string{"default", "kube-system"} {
		if n, err := c.CoreV1().Namespaces().Get(bg, ns, metav1.GetOptions{}); err != nil || n.DeletionTimestamp != nil {
			t.Errorf("namespace %s: %v %v", ns, err, n.DeletionTimestamp)
		}
	}
}
