package replicaset

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// A ReplicaSet without a selector (validation refuses one; the fake takes
// it) selects nothing: it neither releases the pods it controls nor makes
// new ones, which it would release at once and make again on every sync.
func TestNilSelectorDoesNothing(t *testing.T) {
	rs := newRS("web", 2)
	rs.Spec.Selector = nil
	mine := PodFromTemplate(rs)
	mine.Name, mine.UID = "web-mine", "uid-mine"
	h := newHarness(t, rs, mine)
	eventually(t, "the caches", func() bool {
		_, err := h.ctrl.sets.ReplicaSets("default").Get("web")
		pods, _ := h.ctrl.pods.List(labels.Everything())
		return err == nil && len(pods) == 1
	})
	if err := h.ctrl.sync(h.ctx, "default/web"); err != nil {
		t.Fatal(err)
	}
	pods := h.pods()
	if len(pods) != 1 || !metav1.IsControlledBy(&pods[0], rs) {
		t.Errorf("pods %v", podNames(pods))
	}
}

func podNames(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}
