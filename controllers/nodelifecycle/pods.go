package nodelifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodsNotReady returns copies of the pods bound to nodeName whose Ready
// condition is True, with it False from now, as kube's MarkPodsNotReady
// writes them when a node stops reporting: the pod's agent cannot say so
// itself, and the endpoint controllers then take the pods out of their
// Services. Pods already not Ready, or without the condition, are left
// alone (so a silent node costs one write per pod, not one per check).
func PodsNotReady(pods []*corev1.Pod, nodeName string, now time.Time) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.Spec.NodeName != nodeName {
			continue
		}
		i := podConditionIndex(p, corev1.PodReady)
		if i < 0 || p.Status.Conditions[i].Status != corev1.ConditionTrue {
			continue
		}
		c := p.DeepCopy()
		cond := &c.Status.Conditions[i]
		cond.Status, cond.LastTransitionTime = corev1.ConditionFalse, metav1.NewTime(now)
		out = append(out, c)
	}
	return out
}

func podConditionIndex(p *corev1.Pod, t corev1.PodConditionType) int {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return i
		}
	}
	return -1
}

// silent reports whether node's Ready condition is Unknown: its agent has
// stopped reporting (this controller marked it).
func silent(node *corev1.Node) bool {
	c := condition(node, corev1.NodeReady)
	return c != nil && c.Status == corev1.ConditionUnknown
}
