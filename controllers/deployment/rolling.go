package deployment

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
)

// rolloutRolling moves a RollingUpdate Deployment one step: scale the new
// ReplicaSet up within maxSurge, else scale old ones down within
// maxUnavailable (first their unavailable pods), then write the status;
// a finished rollout cleans up old ReplicaSets.
func (c *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, sets []*appsv1.ReplicaSet) error {
	newRS, old, err := c.newAndOld(ctx, d, sets, true)
	if err != nil {
		return err
	}
	all := append(append([]*appsv1.ReplicaSet(nil), old...), newRS)
	scaled, err := c.reconcileNewRS(ctx, d, all, newRS)
	if err != nil {
		return err
	}
	if !scaled {
		if scaled, err = c.reconcileOldRSs(ctx, d, old, newRS); err != nil {
			return err
		}
	}
	if !scaled && complete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, all, newRS, d)
}

// reconcileNewRS scales the new ReplicaSet towards the desired replicas:
// down at once when above, up as far as maxSurge allows.
func (c *Controller) reconcileNewRS(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (bool, error) {
	want := replicasOf(d)
	switch have := rsReplicas(newRS); {
	case have == want:
		return false, nil
	case have > want:
		return c.scaleRS(ctx, d, newRS, want)
	}
	return c.scaleRS(ctx, d, newRS, newRSReplicas(d, all, newRS))
}

// reconcileOldRSs scales old ReplicaSets down as far as maxUnavailable
// allows, counting the new ReplicaSet's unavailable pods against it.
func (c *Controller) reconcileOldRSs(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (bool, error) {
	oldActive := active(old)
	if sumSpec(oldActive) == 0 {
		return false, nil
	}
	all := append(append([]*appsv1.ReplicaSet(nil), oldActive...), newRS)
	minAvailable := replicasOf(d) - MaxUnavailable(d)
	newUnavailable := rsReplicas(newRS)
	if newRS != nil {
		newUnavailable -= newRS.Status.AvailableReplicas
	}
	maxScaledDown := sumSpec(all) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return false, nil
	}
	cleaned, err := c.cleanupUnhealthy(ctx, d, oldActive, maxScaledDown)
	if err != nil {
		return false, err
	}
	scaled, err := c.scaleDownOld(ctx, d, all, oldActive)
	return cleaned+scaled > 0, err
}

// cleanupUnhealthy scales old ReplicaSets down by their unavailable pods,
// oldest first, at most most in all. The sets are updated in place.
func (c *Controller) cleanupUnhealthy(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet, most int32) (int32, error) {
	byCreation(old)
	var done int32
	for _, rs := range old {
		if done >= most {
			break
		}
		n := rsReplicas(rs)
		if n == 0 || n == rs.Status.AvailableReplicas {
			continue
		}
		down := min(most-done, n-rs.Status.AvailableReplicas)
		if _, err := c.scaleRS(ctx, d, rs, n-down); err != nil {
			return done, err
		}
		done += down
	}
	return done, nil
}

// scaleDownOld scales old ReplicaSets down, oldest first, by what the
// available pods exceed replicas - maxUnavailable.
func (c *Controller) scaleDownOld(ctx context.Context, d *appsv1.Deployment, all, old []*appsv1.ReplicaSet) (int32, error) {
	minAvailable := replicasOf(d) - MaxUnavailable(d)
	available := sumAvailable(all)
	if available <= minAvailable {
		return 0, nil
	}
	total := available - minAvailable
	byCreation(old)
	var done int32
	for _, rs := range old {
		if done >= total {
			break
		}
		n := rsReplicas(rs)
		if n == 0 {
			continue
		}
		down := min(n, total-done)
		if _, err := c.scaleRS(ctx, d, rs, n-down); err != nil {
			return done, err
		}
		done += down
	}
	return done, nil
}
