package deployment

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A ReplicaSet's ReplicaFailure (a refused pod create) shows on its
// Deployment until it clears.
func TestReplicaFailureSurfaces(t *testing.T) {
	h := newHarness(t, newDeployment("web", 2))
	h.settle("web")
	rs := h.sets()[0]
	rs.Status.Conditions = []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
		Reason: "FailedCreate", Message: `pods "web-x" is forbidden: exceeded quota`}}
	if _, err := h.client.AppsV1().ReplicaSets("default").UpdateStatus(h.ctx, &rs, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.edit("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "img:2" })
	h.step("web")
	c := condition(h.deployment("web").Status, appsv1.DeploymentReplicaFailure)
	if c == nil || c.Reason != "FailedCreate" || c.Status != corev1.ConditionTrue {
		t.Fatalf("replica failure %+v", c)
	}
	rs = h.sets()[0]
	rs.Status.Conditions = nil
	if _, err := h.client.AppsV1().ReplicaSets("default").UpdateStatus(h.ctx, &rs, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.step("web")
	if c := condition(h.deployment("web").Status, appsv1.DeploymentReplicaFailure); c != nil {
		t.Errorf("replica failure kept: %+v", c)
	}
}

// An empty selector selects every pod: refused with kube's event, its
// generation observed, nothing created.
func TestSelectingAll(t *testing.T) {
	d := newDeployment("web", 1)
	d.Spec.Selector = &metav1.LabelSelector{}
	h := newHarness(t, d)
	h.step("web")
	if len(h.sets()) != 0 || h.deployment("web").Status.ObservedGeneration != 1 {
		t.Fatalf("sets %d status %+v", len(h.sets()), h.deployment("web").Status)
	}
	if ev := <-h.events.Events; ev != "Warning SelectingAll This deployment is selecting all pods. A non-empty selector is required." {
		t.Errorf("event %q", ev)
	}
}
