package nodelifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// withConditions returns a copy of node with conds written into its
// status: the transition time is now, the heartbeat is kept (or, for a
// condition never posted, the node's creation time).
func withConditions(node *corev1.Node, conds []corev1.NodeCondition, now time.Time) *corev1.Node {
	out := node.DeepCopy()
	for _, c := range conds {
		c.LastTransitionTime = metav1.NewTime(now)
		if cur := condition(out, c.Type); cur != nil {
			c.LastHeartbeatTime = cur.LastHeartbeatTime
			*cur = c
			continue
		}
		c.LastHeartbeatTime = node.CreationTimestamp
		out.Status.Conditions = append(out.Status.Conditions, c)
	}
	return out
}

// withTaints returns a copy of node without the taints in remove (by key
// and effect) and with those in add.
func withTaints(node *corev1.Node, add, remove []corev1.Taint) *corev1.Node {
	out := node.DeepCopy()
	var keep []corev1.Taint
	for _, t := range out.Spec.Taints {
		if !hasTaint(remove, t) {
			keep = append(keep, t)
		}
	}
	out.Spec.Taints = append(keep, add...)
	return out
}
