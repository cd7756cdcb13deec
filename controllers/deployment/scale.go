package deployment

import (
	"context"
	"fmt"
	"math"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// scaleRS sets the ReplicaSet's replicas (and its desired-replicas and
// max-replicas annotations) and records kube's ScalingReplicaSet event. It
// updates rs in place and says whether the size changed.
func (c *Controller) scaleRS(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, n int32) (bool, error) {
	if rs == nil {
		return false, nil
	}
	from := rsReplicas(rs)
	next := rs.DeepCopy()
	next.Spec.Replicas = &n
	annotated := setReplicasAnnotations(next, replicasOf(d), replicasOf(d)+MaxSurge(d))
	if from == n && !annotated {
		return false, nil
	}
	updated, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		return false, fmt.Errorf("scale replicaset %s/%s to %d: %w", rs.Namespace, rs.Name, n, err)
	}
	*rs = *updated
	if from == n {
		return false, nil
	}
	op := "up"
	if n < from {
		op = "down"
	}
	c.rec.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", op, rs.Name, from, n)
	return true, nil
}

// scale sizes the ReplicaSets of a paused or resized Deployment: the only
// active one (or the newest) takes the desired replicas; a saturated new
// one leaves the old ones at 0; during a rolling update the change is
// spread over the active ReplicaSets in proportion to their size.
func (c *Controller) scale(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	if one := activeOrLatest(newRS, old); one != nil {
		_, err := c.scaleRS(ctx, d, one, replicasOf(d))
		return err
	}
	if saturated(d, newRS) {
		for _, rs := range active(old) {
			if _, err := c.scaleRS(ctx, d, rs, 0); err != nil {
				return err
			}
		}
		return nil
	}
	if !isRollingUpdate(d) {
		return nil
	}
	sets := active(append(append([]*appsv1.ReplicaSet(nil), old...), newRS))
	for i, n := range Proportional(d, sets) {
		if _, err := c.scaleRS(ctx, d, sets[i], n); err != nil {
			return err
		}
	}
	return nil
}

// activeOrLatest is the one active ReplicaSet, or, with none active, the
// new one or else the newest old one; nil when several are active.
func activeOrLatest(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	all := append(append([]*appsv1.ReplicaSet(nil), old...), newRS)
	switch act := active(all); len(act) {
	case 1:
		return act[0]
	case 0:
		if newRS != nil {
			return newRS
		}
		if len(old) == 0 {
			return nil
		}
		sorted := append([]*appsv1.ReplicaSet(nil), old...)
		byCreation(sorted)
		return sorted[len(sorted)-1]
	}
	return nil
}

// saturated: the new ReplicaSet has, wants and makes available exactly
// the Deployment's replicas.
func saturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, ok := intAnnotation(rs, DesiredReplicasAnnotation)
	n := replicasOf(d)
	return ok && rsReplicas(rs) == n && desired == n && rs.Status.AvailableReplicas == n
}

// Proportional returns the new sizes of the active ReplicaSets (in the
// order given; sets is reordered) so that together they reach replicas +
// maxSurge: each gets its share of the change in proportion to its size
// against the max-replicas it was sized for, and the leftover of the
// rounding goes to the largest (kube's proportional scaling).
func Proportional(d *appsv1.Deployment, sets []*appsv1.ReplicaSet) []int32 {
	var allowed int32
	if replicasOf(d) > 0 {
		allowed = replicasOf(d) + MaxSurge(d)
	}
	toAdd := allowed - sumSpec(sets)
	switch {
	case toAdd > 0:
		bySize(sets, true)
	case toAdd < 0:
		bySize(sets, false)
	}
	sizes := make([]int32, len(sets))
	var added int32
	for i, rs := range sets {
		p := proportion(d, rs, toAdd, added)
		sizes[i] = rsReplicas(rs) + p
		added += p
	}
	if len(sets) > 0 && toAdd != 0 {
		sizes[0] = max(sizes[0]+toAdd-added, 0)
	}
	return sizes
}

// proportion is the share of toAdd (of which added is handed out) a
// ReplicaSet gets, never past what is left.
func proportion(d *appsv1.Deployment, rs *appsv1.ReplicaSet, toAdd, added int32) int32 {
	if rsReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	share := fraction(d, rs)
	left := toAdd - added
	if toAdd > 0 {
		return min(share, left)
	}
	return max(share, left)
}

// fraction is how much the ReplicaSet grows or shrinks when the
// Deployment's max-replicas moves from the one it was sized for to the
// current one.
func fraction(d *appsv1.Deployment, rs *appsv1.ReplicaSet) int32 {
	if replicasOf(d) == 0 {
		return -rsReplicas(rs)
	}
	most := replicasOf(d) + MaxSurge(d)
	before, ok := intAnnotation(rs, MaxReplicasAnnotation)
	if !ok || before == 0 {
		before = d.Status.Replicas
	}
	if before == 0 {
		return 0
	}
	size := float64(rsReplicas(rs)) * float64(most) / float64(before)
	return int32(math.Round(size)) - rsReplicas(rs)
}
