package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func priorityClass(name string, value int32, globalDefault bool) *schedulingv1.PriorityClass {
	return &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value, GlobalDefault: globalDefault}
}

// The server starts with kube's two system classes; PriorityClasses are
// validated as kube-apiserver validates them, and one only may be the
// global default.
func TestPriorityClasses(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	pcs := ts.admin(t).SchedulingV1().PriorityClasses()
	for name, value := range map[string]int32{"system-node-critical": 2000001000, "system-cluster-critical": 2000000000} {
		pc, err := pcs.Get(bg, name, metav1.GetOptions{})
		if err != nil || pc.Value != value || pc.GlobalDefault || *pc.PreemptionPolicy != corev1.PreemptLowerPriority || pc.Description == "" {
			t.Errorf("%s: %v %+v", name, err, pc)
		}
	}
	_, err := pcs.Create(bg, priorityClass("huge", 1000000001, false), metav1.CreateOptions{})
	wantInvalidParts(t, err, `PriorityClass.scheduling.k8s.io "huge" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000`)
	_, err = pcs.Create(bg, priorityClass("system-mine", 10, false), metav1.CreateOptions{})
	wantInvalidParts(t, err, `metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class`)
	never := corev1.PreemptionPolicy("Sometimes")
	bad := priorityClass("odd", 1, false)
	bad.PreemptionPolicy = &never
	_, err = pcs.Create(bg, bad, metav1.CreateOptions{})
	wantInvalidParts(t, err, `preemptionPolicy: Unsupported value: "Sometimes"`)

	high, err := pcs.Create(bg, priorityClass("high", 1000000000, true), metav1.CreateOptions{})
	if err != nil || *high.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Fatalf("create high: %v %+v", err, high)
	}
	_, err = pcs.Create(bg, priorityClass("second", 5, true), metav1.CreateOptions{})
	wantForbidden(t, "a second default", err, `priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass high is already marked as default. Only one default can exist`)
	low, err := pcs.Create(bg, priorityClass("low", -5, false), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	low.GlobalDefault = true
	_, err = pcs.Update(bg, low, metav1.UpdateOptions{})
	wantForbidden(t, "marking a second default", err, `priorityclasses.scheduling.k8s.io "low" is forbidden: PriorityClass high is already marked as default. Only one default can exist`)
	high.Value = 7
	_, err = pcs.Update(bg, high, metav1.UpdateOptions{})
	wantInvalidParts(t, err, `value: Forbidden: may not be changed in an update.`)
	high, _ = pcs.Get(bg, "high", metav1.GetOptions{})
	high.Description, high.GlobalDefault = "now described", true
	if _, err := pcs.Update(bg, high, metav1.UpdateOptions{}); err != nil {
		t.Errorf("updating the default itself: %v", err)
	}
	err = pcs.Delete(bg, "system-node-critical", metav1.DeleteOptions{})
	wantForbidden(t, "deleting a system class", err, `priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted`)
	if err := pcs.Delete(bg, "high", metav1.DeleteOptions{}); err != nil {
		t.Errorf("deleting a class: %v", err)
	}
}

// The Priority admission plugin: a pod's priority and preemption policy
// come from its class, or the global default, else 0; a missing class or
// a priority that disagrees is refused with kube's message; an update
// keeps the stored values.
func TestPodPriorityAdmission(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	pods := c.CoreV1().Pods("default")
	plain, err := pods.Create(bg, testPod("plain"), metav1.CreateOptions{})
	if err != nil || *plain.Spec.Priority != 0 || *plain.Spec.PreemptionPolicy != corev1.PreemptLowerPriority || plain.Spec.PriorityClassName != "" {
		t.Fatalf("pod without class: %v %+v", err, plain.Spec)
	}
	critical := testPod("critical")
	critical.Spec.PriorityClassName = "system-node-critical"
	if got, err := pods.Create(bg, critical, metav1.CreateOptions{}); err != nil || *got.Spec.Priority != 2000001000 {
		t.Fatalf("system-node-critical pod: %v", err)
	}
	missing := testPod("missing")
	missing.Spec.PriorityClassName = "nope"
	_, err = pods.Create(bg, missing, metav1.CreateOptions{})
	wantForbidden(t, "missing class", err, `pods "missing" is forbidden: no PriorityClass with name nope was found`)

	never := corev1.PreemptNever
	batch := priorityClass("batch", 100, true)
	batch.PreemptionPolicy = &never
	if _, err := c.SchedulingV1().PriorityClasses().Create(bg, batch, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := pods.Create(bg, testPod("defaulted"), metav1.CreateOptions{})
	if err != nil || got.Spec.PriorityClassName != "batch" || *got.Spec.Priority != 100 || *got.Spec.PreemptionPolicy != corev1.PreemptNever {
		t.Fatalf("pod under a global default: %v %+v", err, got.Spec)
	}
	liar := testPod("liar")
	liar.Spec.PriorityClassName, liar.Spec.Priority = "batch", ptrTo(int32(2000000000))
	_, err = pods.Create(bg, liar, metav1.CreateOptions{})
	wantForbidden(t, "priority set by the client", err, `pods "liar" is forbidden: the integer value of priority (2000000000) must not be provided in pod spec; priority admission controller computed 100 from the given PriorityClass name`)
	liar.Spec.Priority, liar.Spec.PreemptionPolicy = ptrTo(int32(100)), ptrTo(corev1.PreemptLowerPriority)
	_, err = pods.Create(bg, liar, metav1.CreateOptions{})
	wantForbidden(t, "policy set by the client", err, `pods "liar" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name`)

	got.Spec.Priority, got.Spec.PreemptionPolicy = nil, nil
	got.Labels = map[string]string{"updated": "yes"}
	got, err = pods.Update(bg, got, metav1.UpdateOptions{})
	if err != nil || *got.Spec.Priority != 100 || *got.Spec.PreemptionPolicy != corev1.PreemptNever {
		t.Fatalf("update without priority: %v %+v", err, got.Spec)
	}
}

// kube's system:node role grants no access to PriorityClasses (kubelet
// reads a pod's priority from spec.priority): a node is refused.
func TestNodeCannotReadPriorityClasses(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	_, err := ts.node(t, "n1").SchedulingV1().PriorityClasses().Get(bg, "system-node-critical", metav1.GetOptions{})
	wantForbidden(t, "node gets a class", err, `priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: User "system:node:n1" cannot get resource "priorityclasses" in API group "scheduling.k8s.io" at the cluster scope`)
}
