package deployment

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func oldPod(rs appsv1.ReplicaSet) *corev1.Pod {
	t := true
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: rs.Name + "-x", Labels: rs.Spec.Template.Labels,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &t}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

func waitPods(t *testing.T, h *harness, n int) {
	t.Helper()
	eventually(t, func() bool {
		pods, _ := h.ctrl.pods.List(everything())
		return len(pods) == n
	})
}

// An orphan ReplicaSet of the Deployment's template is adopted and used
// as the new one; an owned one relabelled out of the selector is released.
func TestAdoptAndRelease(t *testing.T) {
	d := newDeployment("web", 2)
	hash := ComputeHash(&d.Spec.Template, nil)
	orphan := newRSFor(d, nil, "1")
	orphan.OwnerReferences = nil
	orphan.UID = "orphan"
	stray := newRSFor(d, nil, "")
	stray.Name, stray.UID = "stray", "stray"
	stray.Labels = map[string]string{"app": "other"}
	stray.Spec.Template.Spec.Containers[0].Image = "img:0"
	h := newHarness(t, d, orphan, stray)
	h.settle("web")
	sets := h.sets()
	if len(sets) != 2 {
		t.Fatalf("%d replicasets", len(sets))
	}
	for _, rs := range sets {
		ref := metav1.GetControllerOf(&rs)
		switch rs.Name {
		case "web-" + hash:
			if ref == nil || ref.UID != d.UID || rsReplicas(&rs) != 2 {
				t.Errorf("orphan %v %d", ref, rsReplicas(&rs))
			}
		case "stray":
			if ref != nil {
				t.Errorf("stray adopted or kept: %v", ref)
			}
		}
	}
}

// A ReplicaSet of another template holding the new one's name is a hash
// collision: collisionCount goes up and the next name is free.
func TestHashCollision(t *testing.T) {
	d := newDeployment("web", 1)
	taken := newRSFor(d, nil, "")
	taken.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "x", UID: types.UID("someone"),
		Controller: ptr(true)}}
	taken.Spec.Template.Spec.Containers[0].Image = "other"
	h := newHarness(t, d, taken)
	h.simulate()
	h.caughtUp()
	if err := h.ctrl.sync(h.ctx, "default/web"); err == nil {
		t.Fatal("sync with a collision succeeded")
	}
	h.caughtUp()
	if cc := h.deployment("web").Status.CollisionCount; cc == nil || *cc != 1 {
		t.Fatalf("collision count %v", cc)
	}
	h.settle("web")
	one := int32(1)
	if want := "web-" + ComputeHash(&d.Spec.Template, &one); h.sets()[1].Name != want {
		t.Errorf("new replicaset %s, want %s", h.sets()[1].Name, want)
	}
}
