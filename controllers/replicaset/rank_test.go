package replicaset

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func rankPod(name, node string, phase corev1.PodPhase, ready bool, created time.Duration) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(created))},
		Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
	if ready {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0)}}
	}
	return p
}

// kube's order: unscheduled, pending, not ready, then the younger.
func TestPodsToDelete(t *testing.T) {
	pods := []*corev1.Pod{
		rankPod("ready-old", "n1", corev1.PodRunning, true, 0),
		rankPod("ready-young", "n2", corev1.PodRunning, true, time.Minute),
		rankPod("running-notready", "n3", corev1.PodRunning, false, 0),
		rankPod("pending", "n4", corev1.PodPending, false, 0),
		rankPod("unscheduled", "", corev1.PodPending, false, 0),
	}
	want := []string{"unscheduled", "pending", "running-notready", "ready-young", "ready-old"}
	for n := 1; n < len(want); n++ {
		got := PodsToDelete(pods, n)
		for i, p := range got {
			if p.Name != want[i] {
				t.Fatalf("n=%d: %d is %s, want %s", n, i, p.Name, want[i])
			}
		}
	}
	costly := rankPod("costly", "n5", corev1.PodRunning, true, time.Hour)
	costly.Annotations = map[string]string{DeletionCostAnnotation: "100"}
	cheap := rankPod("cheap", "n6", corev1.PodRunning, true, 0)
	cheap.Annotations = map[string]string{DeletionCostAnnotation: "-1"}
	if got := PodsToDelete([]*corev1.Pod{costly, cheap}, 1); got[0].Name != "cheap" {
		t.Errorf("deleted %s first", got[0].Name)
	}
}
