package nodelifecycle

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reasons and messages for conditions marked Unknown, as kube writes them.
const (
	ReasonNodeStatusUnknown       = "NodeStatusUnknown"
	MessageNodeStatusUnknown      = "Kubelet stopped posting node status."
	ReasonNodeStatusNeverUpdated  = "NodeStatusNeverUpdated"
	MessageNodeStatusNeverUpdated = "Kubelet never posted node status."
)

// Decision is what to change on one node.
type Decision struct {
	// MarkUnknown are the conditions to write with status Unknown: type,
	// status, reason and message set, times left to the applier.
	MarkUnknown []corev1.NodeCondition
	// AddTaints are taints to add; NoExecute ones carry TimeAdded.
	AddTaints []corev1.Taint
	// RemoveTaints are taints to remove, matched by key and effect.
	RemoveTaints []corev1.Taint
}

// Empty reports whether the node needs no change.
func (d Decision) Empty() bool {
	return len(d.MarkUnknown) == 0 && len(d.AddTaints) == 0 && len(d.RemoveTaints) == 0
}

// monitoredConditions are marked Unknown when the node stops reporting.
func monitoredConditions() []corev1.NodeConditionType {
	return []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure}
}

// Evaluate decides what node needs at now: conditions to mark Unknown when
// its lease and its Ready heartbeat are both older than grace, and
// the condition taints to add or remove given the conditions that result.
func Evaluate(node *corev1.Node, lease *coordinationv1.Lease, now time.Time, grace time.Duration) Decision {
	var d Decision
	if now.After(lastHeartbeat(node, lease).Add(grace)) {
		d.MarkUnknown = unknownConditions(node)
	}
	after := withConditions(node, d.MarkUnknown, now)
	d.AddTaints, d.RemoveTaints = diffTaints(node.Spec.Taints, desiredTaints(after), now)
	return d
}

// lastHeartbeat is the latest sign of life: the lease's renew time or the
// Ready condition's heartbeat, whichever is newer (kube's probe timestamp
// also moves on either), else the node's creation, so that a new node gets
// its grace too. Taking the newer also means that a lease informer lagging
// behind the node informer cannot make a node that just reported look
// silent.
func lastHeartbeat(node *corev1.Node, lease *coordinationv1.Lease) time.Time {
	last := node.CreationTimestamp.Time
	if c := condition(node, corev1.NodeReady); c != nil && c.LastHeartbeatTime.After(last) {
		last = c.LastHeartbeatTime.Time
	}
	if lease != nil && lease.Spec.RenewTime != nil && lease.Spec.RenewTime.After(last) {
		last = lease.Spec.RenewTime.Time
	}
	return last
}

func condition(node *corev1.Node, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == t {
			return &node.Status.Conditions[i]
		}
	}
	return nil
}

// unknownConditions lists the monitored conditions not Unknown yet.
func unknownConditions(node *corev1.Node) []corev1.NodeCondition {
	var out []corev1.NodeCondition
	for _, t := range monitoredConditions() {
		c := condition(node, t)
		switch {
		case c == nil:
			out = append(out, corev1.NodeCondition{Type: t, Status: corev1.ConditionUnknown,
				Reason: ReasonNodeStatusNeverUpdated, Message: MessageNodeStatusNeverUpdated})
		case c.Status != corev1.ConditionUnknown:
			out = append(out, corev1.NodeCondition{Type: t, Status: corev1.ConditionUnknown,
				Reason: ReasonNodeStatusUnknown, Message: MessageNodeStatusUnknown})
		}
	}
	return out
}

// conditionTaint says which taint a condition in a given status calls for.
type conditionTaint struct {
	condition corev1.NodeConditionType
	status    corev1.ConditionStatus
	taint     corev1.Taint
}

func conditionTaints() []conditionTaint {
	noSched, noExec := corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute
	return []conditionTaint{
		{corev1.NodeReady, corev1.ConditionFalse, corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: noSched}},
		{corev1.NodeReady, corev1.ConditionFalse, corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: noExec}},
		{corev1.NodeReady, corev1.ConditionUnknown, corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: noSched}},
		{corev1.NodeReady, corev1.ConditionUnknown, corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: noExec}},
		{corev1.NodeMemoryPressure, corev1.ConditionTrue, corev1.Taint{Key: corev1.TaintNodeMemoryPressure, Effect: noSched}},
		{corev1.NodeDiskPressure, corev1.ConditionTrue, corev1.Taint{Key: corev1.TaintNodeDiskPressure, Effect: noSched}},
		{corev1.NodePIDPressure, corev1.ConditionTrue, corev1.Taint{Key: corev1.TaintNodePIDPressure, Effect: noSched}},
		{corev1.NodeNetworkUnavailable, corev1.ConditionTrue, corev1.Taint{Key: corev1.TaintNodeNetworkUnavailable, Effect: noSched}},
	}
}

// cordonTaint mirrors spec.unschedulable.
func cordonTaint() corev1.Taint {
	return corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}
}

// ownedTaint: the taints this controller manages; it leaves others alone.
func ownedTaint(t corev1.Taint) bool {
	if t.MatchTaint(ptr(cordonTaint())) {
		return true
	}
	for _, ct := range conditionTaints() {
		if t.MatchTaint(&ct.taint) {
			return true
		}
	}
	return false
}

// desiredTaints are the owned taints node's conditions and spec call for.
func desiredTaints(node *corev1.Node) []corev1.Taint {
	var want []corev1.Taint
	for _, ct := range conditionTaints() {
		if c := condition(node, ct.condition); c != nil && c.Status == ct.status {
			want = append(want, ct.taint)
		}
	}
	if node.Spec.Unschedulable {
		want = append(want, cordonTaint())
	}
	return want
}

// diffTaints compares the node's taints with the owned taints it should
// carry, matching by key and effect.
func diffTaints(have, want []corev1.Taint, now time.Time) (add, remove []corev1.Taint) {
	for _, w := range want {
		if !hasTaint(have, w) {
			if w.Effect == corev1.TaintEffectNoExecute {
				w.TimeAdded = ptr(metav1.NewTime(now))
			}
			add = append(add, w)
		}
	}
	for _, h := range have {
		if ownedTaint(h) && !hasTaint(want, h) {
			remove = append(remove, h)
		}
	}
	return add, remove
}

func hasTaint(ts []corev1.Taint, t corev1.Taint) bool {
	for i := range ts {
		if ts[i].MatchTaint(&t) {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
