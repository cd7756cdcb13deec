package validation

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The workloads' status rules, as kube's Validate*Status: counts are not
// negative and no subset outnumbers the replicas. The update functions
// apply them: a status update keeps the stored spec, an update the stored
// status, so checking both on every update checks what changed.

const overReplicasMsg = "cannot be greater than status.replicas"

// count is one named number of a status.
type count struct {
	name  string
	value int64
}

func nonNegatives(fld *field.Path, counts ...count) field.ErrorList {
	var errs field.ErrorList
	for _, c := range counts {
		errs = append(errs, nonNegative(c.value, fld.Child(c.name))...)
	}
	return errs
}

func optionalCount(name string, v *int32) []count {
	if v == nil {
		return nil
	}
	return []count{{name, int64(*v)}}
}

// atMost reports v (named name) over limit with msg.
func atMost(fld *field.Path, name string, v, limit int32, msg string) field.ErrorList {
	if v > limit {
		return field.ErrorList{field.Invalid(fld.Child(name), v, msg)}
	}
	return nil
}

func deploymentStatus(s *appsv1.DeploymentStatus, fld *field.Path) field.ErrorList {
	counts := []count{{"observedGeneration", s.ObservedGeneration}, {"replicas", int64(s.Replicas)},
		{"updatedReplicas", int64(s.UpdatedReplicas)}, {"readyReplicas", int64(s.ReadyReplicas)},
		{"availableReplicas", int64(s.AvailableReplicas)}, {"unavailableReplicas", int64(s.UnavailableReplicas)}}
	counts = append(counts, optionalCount("terminatingReplicas", s.TerminatingReplicas)...)
	errs := nonNegatives(fld, append(counts, optionalCount("collisionCount", s.CollisionCount)...)...)
	errs = append(errs, atMost(fld, "updatedReplicas", s.UpdatedReplicas, s.Replicas, overReplicasMsg)...)
	errs = append(errs, atMost(fld, "readyReplicas", s.ReadyReplicas, s.Replicas, overReplicasMsg)...)
	errs = append(errs, atMost(fld, "availableReplicas", s.AvailableReplicas, s.Replicas, overReplicasMsg)...)
	return append(errs, atMost(fld, "availableReplicas", s.AvailableReplicas, s.ReadyReplicas, "cannot be greater than readyReplicas")...)
}

func replicaSetStatus(s *appsv1.ReplicaSetStatus, fld *field.Path) field.ErrorList {
	counts := []count{{"replicas", int64(s.Replicas)}, {"fullyLabeledReplicas", int64(s.FullyLabeledReplicas)},
		{"readyReplicas", int64(s.ReadyReplicas)}, {"availableReplicas", int64(s.AvailableReplicas)},
		{"observedGeneration", s.ObservedGeneration}}
	errs := nonNegatives(fld, append(counts, optionalCount("terminatingReplicas", s.TerminatingReplicas)...)...)
	errs = append(errs, atMost(fld, "fullyLabeledReplicas", s.FullyLabeledReplicas, s.Replicas, overReplicasMsg)...)
	errs = append(errs, atMost(fld, "readyReplicas", s.ReadyReplicas, s.Replicas, overReplicasMsg)...)
	errs = append(errs, atMost(fld, "availableReplicas", s.AvailableReplicas, s.Replicas, overReplicasMsg)...)
	return append(errs, atMost(fld, "availableReplicas", s.AvailableReplicas, s.ReadyReplicas, "cannot be greater than readyReplicas")...)
}

func statefulSetStatus(s *appsv1.StatefulSetStatus, fld *field.Path) field.ErrorList {
	counts := []count{{"replicas", int64(s.Replicas)}, {"readyReplicas", int64(s.ReadyReplicas)},
		{"currentReplicas", int64(s.CurrentReplicas)}, {"updatedReplicas", int64(s.UpdatedReplicas)},
		{"availableReplicas", int64(s.AvailableReplicas)}, {"observedGeneration", s.ObservedGeneration}}
	errs := nonNegatives(fld, append(counts, optionalCount("collisionCount", s.CollisionCount)...)...)
	errs = append(errs, atMost(fld, "readyReplicas", s.ReadyReplicas, s.Replicas, overReplicasMsg)...)
	errs = append(errs, atMost(fld, "currentReplicas", s.CurrentReplicas, s.Replicas, overReplicasMsg)...)
	errs = append(errs, atMost(fld, "updatedReplicas", s.UpdatedReplicas, s.Replicas, overReplicasMsg)...)
	errs = append(errs, atMost(fld, "availableReplicas", s.AvailableReplicas, s.Replicas, overReplicasMsg)...)
	return append(errs, atMost(fld, "availableReplicas", s.AvailableReplicas, s.ReadyReplicas, "cannot be greater than status.readyReplicas")...)
}

func daemonSetStatus(s *appsv1.DaemonSetStatus, fld *field.Path) field.ErrorList {
	counts := []count{{"currentNumberScheduled", int64(s.CurrentNumberScheduled)}, {"numberMisscheduled", int64(s.NumberMisscheduled)},
		{"desiredNumberScheduled", int64(s.DesiredNumberScheduled)}, {"numberReady", int64(s.NumberReady)},
		{"observedGeneration", s.ObservedGeneration}, {"updatedNumberScheduled", int64(s.UpdatedNumberScheduled)},
		{"numberAvailable", int64(s.NumberAvailable)}, {"numberUnavailable", int64(s.NumberUnavailable)}}
	return nonNegatives(fld, append(counts, optionalCount("collisionCount", s.CollisionCount)...)...)
}
