package deployment

import (
	"math"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The annotations kube's deployment controller keeps (kubectl rollout
// history and undo read them).
const (
	RevisionAnnotation        = "deployment.kubernetes.io/revision"
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	MaxReplicasAnnotation     = "deployment.kubernetes.io/max-replicas"
	lastAppliedAnnotation     = "kubectl.kubernetes.io/last-applied-configuration"
	rollbackToAnnotation      = "deprecated.deployment.rollback.to"
	// maxRevisionHistoryChars bounds the revision-history annotation.
	maxRevisionHistoryChars = 2000
)

// notCopied are the Deployment annotations its ReplicaSets do not get.
var notCopied = map[string]bool{lastAppliedAnnotation: true, RevisionAnnotation: true, RevisionHistoryAnnotation: true,
	DesiredReplicasAnnotation: true, MaxReplicasAnnotation: true, rollbackToAnnotation: true}

func replicasOf(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func rsReplicas(rs *appsv1.ReplicaSet) int32 {
	if rs == nil || rs.Spec.Replicas == nil {
		return 0
	}
	return *rs.Spec.Replicas
}

func isRollingUpdate(d *appsv1.Deployment) bool {
	return d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType
}

// fenceposts resolves maxSurge (rounded up) and maxUnavailable (rounded
// down) against the desired replicas; both 0 makes maxUnavailable 1.
// Unset parameters take kube's defaults, 25% each.
func fenceposts(d *appsv1.Deployment) (surge, unavailable int32) {
	quarter := intstr.FromString("25%")
	var ms, mu *intstr.IntOrString
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		ms, mu = ru.MaxSurge, ru.MaxUnavailable
	}
	desired := int(replicasOf(d))
	s, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(ms, quarter), desired, true)
	if err != nil {
		s = 0
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(mu, quarter), desired, false)
	if err != nil {
		u = 0
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u)
}

// MaxSurge is how many pods a rolling update may run above the desired.
func MaxSurge(d *appsv1.Deployment) int32 {
	if !isRollingUpdate(d) {
		return 0
	}
	s, _ := fenceposts(d)
	return s
}

// MaxUnavailable is how many of the desired pods a rolling update may
// have unavailable, at most all of them.
func MaxUnavailable(d *appsv1.Deployment) int32 {
	if !isRollingUpdate(d) || replicasOf(d) == 0 {
		return 0
	}
	_, u := fenceposts(d)
	return min(u, replicasOf(d))
}

func hasProgressDeadline(d *appsv1.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != math.MaxInt32
}

// sumSpec, sumActual, sumReady and sumAvailable add up the ReplicaSets'
// spec.replicas and status counts (nil entries count 0).
func sumSpec(sets []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range sets {
		n += rsReplicas(rs)
	}
	return n
}

func sumActual(sets []*appsv1.ReplicaSet) int32 {
	return sumStatus(sets, func(st appsv1.ReplicaSetStatus) int32 { return st.Replicas })
}

func sumReady(sets []*appsv1.ReplicaSet) int32 {
	return sumStatus(sets, func(st appsv1.ReplicaSetStatus) int32 { return st.ReadyReplicas })
}

func sumAvailable(sets []*appsv1.ReplicaSet) int32 {
	return sumStatus(sets, func(st appsv1.ReplicaSetStatus) int32 { return st.AvailableReplicas })
}

func sumStatus(sets []*appsv1.ReplicaSet, count func(appsv1.ReplicaSetStatus) int32) int32 {
	var n int32
	for _, rs := range sets {
		if rs != nil {
			n += count(rs.Status)
		}
	}
	return n
}

// active are the ReplicaSets with replicas wanted.
func active(sets []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range sets {
		if rsReplicas(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

func revision(rs *appsv1.ReplicaSet) int64 {
	v, err := strconv.ParseInt(rs.Annotations[RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func maxRevision(sets []*appsv1.ReplicaSet) int64 {
	var m int64
	for _, rs := range sets {
		m = max(m, revision(rs))
	}
	return m
}

func intAnnotation(rs *appsv1.ReplicaSet, name string) (int32, bool) {
	v, err := strconv.ParseInt(rs.Annotations[name], 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(v), true
}

// setReplicasAnnotations sets desired-replicas and max-replicas and says
// whether they changed.
func setReplicasAnnotations(rs *appsv1.ReplicaSet, desired, most int32) bool {
	d, m := strconv.Itoa(int(desired)), strconv.Itoa(int(most))
	if rs.Annotations[DesiredReplicasAnnotation] == d && rs.Annotations[MaxReplicasAnnotation] == m {
		return false
	}
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	rs.Annotations[DesiredReplicasAnnotation], rs.Annotations[MaxReplicasAnnotation] = d, m
	return true
}

// byCreation orders oldest first, then by name.
func byCreation(sets []*appsv1.ReplicaSet) {
	sort.SliceStable(sets, func(i, j int) bool { return olderRS(sets[i], sets[j]) })
}

func olderRS(a, b *appsv1.ReplicaSet) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// bySize orders larger first; equal sizes newer first (newerFirst) or
// older first.
func bySize(sets []*appsv1.ReplicaSet, newerFirst bool) {
	sort.SliceStable(sets, func(i, j int) bool {
		if a, b := rsReplicas(sets[i]), rsReplicas(sets[j]); a != b {
			return a > b
		}
		return olderRS(sets[i], sets[j]) != newerFirst
	})
}

// byRevision orders the lowest revision first, then the oldest.
func byRevision(sets []*appsv1.ReplicaSet) {
	sort.SliceStable(sets, func(i, j int) bool {
		if a, b := revision(sets[i]), revision(sets[j]); a != b {
			return a < b
		}
		return olderRS(sets[i], sets[j])
	})
}
