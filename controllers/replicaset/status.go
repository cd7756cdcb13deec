package replicaset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Status computes the ReplicaSet's status from its active pods and the
// error of the last create or delete round (nil when it went well, or
// when none ran), as kube's calculateStatus does.
func Status(rs *appsv1.ReplicaSet, active []*corev1.Pod, manageErr error, scaledUp bool, now time.Time) appsv1.ReplicaSetStatus {
	st := *rs.Status.DeepCopy()
	st.Replicas = int32(len(active))
	st.FullyLabeledReplicas, st.ReadyReplicas, st.AvailableReplicas = 0, 0, 0
	tmpl := labels.Set(rs.Spec.Template.Labels)
	for _, p := range active {
		if tmpl.AsSelector().Matches(labels.Set(p.Labels)) {
			st.FullyLabeledReplicas++
		}
		if IsPodReady(p) {
			st.ReadyReplicas++
			if IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				st.AvailableReplicas++
			}
		}
	}
	st.Conditions = failureCondition(st.Conditions, manageErr, scaledUp, now)
	return st
}

// failureCondition sets ReplicaFailure on a failed round and removes it
// after a good one; an existing condition is kept as it is.
func failureCondition(conds []appsv1.ReplicaSetCondition, manageErr error, scaledUp bool, now time.Time) []appsv1.ReplicaSetCondition {
	var out []appsv1.ReplicaSetCondition
	var had bool
	for _, c := range conds {
		if c.Type != appsv1.ReplicaSetReplicaFailure {
			out = append(out, c)
			continue
		}
		had = true
		if manageErr != nil {
			out = append(out, c)
		}
	}
	if manageErr == nil || had {
		return out
	}
	reason := "FailedDelete"
	if scaledUp {
		reason = "FailedCreate"
	}
	return append(out, appsv1.ReplicaSetCondition{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
		Reason: reason, Message: manageErr.Error(), LastTransitionTime: metav1.NewTime(now)})
}
