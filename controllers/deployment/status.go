package deployment

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kube's condition reasons.
const (
	NewRSReason                  = "NewReplicaSetCreated"
	FoundNewRSReason             = "FoundNewReplicaSet"
	ReplicaSetUpdatedReason      = "ReplicaSetUpdated"
	NewRSAvailableReason         = "NewReplicaSetAvailable"
	TimedOutReason               = "ProgressDeadlineExceeded"
	FailedRSCreateReason         = "ReplicaSetCreateError"
	PausedReason                 = "DeploymentPaused"
	ResumedReason                = "DeploymentResumed"
	MinimumReplicasAvailable     = "MinimumReplicasAvailable"
	MinimumReplicasUnavailable   = "MinimumReplicasUnavailable"
	minimumAvailabilityMessage   = "Deployment has minimum availability."
	noMinimumAvailabilityMessage = "Deployment does not have minimum availability."
)

func newCondition(t appsv1.DeploymentConditionType, s corev1.ConditionStatus, reason, msg string, now time.Time) appsv1.DeploymentCondition {
	at := metav1.NewTime(now)
	return appsv1.DeploymentCondition{Type: t, Status: s, Reason: reason, Message: msg, LastUpdateTime: at, LastTransitionTime: at}
}

func condition(st appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

// setCondition puts c in place of the condition of its type, unless that
// has the same status and reason; a same-status one keeps its transition
// time.
func setCondition(st *appsv1.DeploymentStatus, c appsv1.DeploymentCondition) {
	cur := condition(*st, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	removeCondition(st, c.Type)
	st.Conditions = append(st.Conditions, c)
}

func removeCondition(st *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) {
	var out []appsv1.DeploymentCondition
	for _, c := range st.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	st.Conditions = out
}

// calculateStatus is the Deployment's status from its ReplicaSets (nil
// entries allowed): counts, observedGeneration, and the Available
// condition (True once at least replicas - maxUnavailable are available).
func calculateStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment, now time.Time) appsv1.DeploymentStatus {
	available := sumAvailable(all)
	st := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            sumActual(all),
		UpdatedReplicas:     sumActual([]*appsv1.ReplicaSet{newRS}),
		ReadyReplicas:       sumReady(all),
		AvailableReplicas:   available,
		UnavailableReplicas: max(sumSpec(all)-available, 0),
		CollisionCount:      d.Status.CollisionCount,
		Conditions:          append([]appsv1.DeploymentCondition(nil), d.Status.Conditions...),
	}
	if available >= replicasOf(d)-MaxUnavailable(d) {
		setCondition(&st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, MinimumReplicasAvailable, minimumAvailabilityMessage, now))
	} else {
		setCondition(&st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, MinimumReplicasUnavailable, noMinimumAvailabilityMessage, now))
	}
	return st
}

// complete: every desired replica is updated and available, no old ones
// run, and the status is of the current generation.
func complete(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	n := replicasOf(d)
	return st.UpdatedReplicas == n && st.Replicas == n && st.AvailableReplicas == n && st.ObservedGeneration >= d.Generation
}

// progressing: more updated, ready or available replicas than the last
// status, or fewer old ones.
func progressing(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	old := d.Status
	return st.UpdatedReplicas > old.UpdatedReplicas || st.Replicas-st.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		st.ReadyReplicas > old.ReadyReplicas || st.AvailableReplicas > old.AvailableReplicas
}

// timedOut: the Progressing condition was last updated more than
// progressDeadlineSeconds ago.
func timedOut(d *appsv1.Deployment, st *appsv1.DeploymentStatus, now time.Time) bool {
	if !hasProgressDeadline(d) {
		return false
	}
	c := condition(*st, appsv1.DeploymentProgressing)
	if c == nil || c.Reason == NewRSAvailableReason {
		return false
	}
	if c.Reason == TimedOutReason {
		return true
	}
	return c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Before(now)
}

// rolloutStatus is calculateStatus plus the Progressing condition of a
// rollout (NewReplicaSetAvailable, ReplicaSetUpdated or
// ProgressDeadlineExceeded) and the ReplicaSets' ReplicaFailure.
func rolloutStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment, now time.Time) appsv1.DeploymentStatus {
	st := calculateStatus(all, newRS, d, now)
	if !hasProgressDeadline(d) {
		removeCondition(&st, appsv1.DeploymentProgressing)
	}
	cur := condition(d.Status, appsv1.DeploymentProgressing)
	done := st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == NewRSAvailableReason
	if hasProgressDeadline(d) && !done {
		setProgress(&st, d, newRS, cur, now)
	}
	if f := replicaFailure(all, newRS); f != nil {
		setCondition(&st, *f)
	} else {
		removeCondition(&st, appsv1.DeploymentReplicaFailure)
	}
	return st
}

func setProgress(st *appsv1.DeploymentStatus, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, cur *appsv1.DeploymentCondition, now time.Time) {
	subject := fmt.Sprintf("Deployment %q", d.Name)
	if newRS != nil {
		subject = fmt.Sprintf("ReplicaSet %q", newRS.Name)
	}
	switch {
	case complete(d, st):
		setCondition(st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, NewRSAvailableReason,
			subject+" has successfully progressed.", now))
	case progressing(d, st):
		c := newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReplicaSetUpdatedReason, subject+" is progressing.", now)
		if cur != nil {
			if cur.Status == corev1.ConditionTrue {
				c.LastTransitionTime = cur.LastTransitionTime
			}
			removeCondition(st, appsv1.DeploymentProgressing)
		}
		setCondition(st, c)
	case timedOut(d, st, now):
		setCondition(st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, TimedOutReason,
			subject+" has timed out progressing.", now))
	}
}

// replicaFailure is the new ReplicaSet's ReplicaFailure condition, else
// the first old one's, as a Deployment condition.
func replicaFailure(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
	for _, rs := range append([]*appsv1.ReplicaSet{newRS}, all...) {
		if rs == nil {
			continue
		}
		for _, c := range rs.Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure {
				return &appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: c.Status, Reason: c.Reason,
					Message: c.Message, LastUpdateTime: c.LastTransitionTime, LastTransitionTime: c.LastTransitionTime}
			}
		}
	}
	return nil
}

// syncRolloutStatus writes the rollout status, or, when nothing changed,
// queues the Deployment for its progress deadline.
func (c *Controller) syncRolloutStatus(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) error {
	now := c.clock.Now()
	st := rolloutStatus(all, newRS, d, now)
	if apiequality.Semantic.DeepEqual(d.Status, st) {
		c.requeueStuck(d, st, now)
		return nil
	}
	return c.writeStatus(ctx, d, st)
}

// requeueStuck queues a rollout that made no progress for when its
// deadline passes.
func (c *Controller) requeueStuck(d *appsv1.Deployment, st appsv1.DeploymentStatus, now time.Time) {
	cur := condition(d.Status, appsv1.DeploymentProgressing)
	if !hasProgressDeadline(d) || cur == nil || complete(d, &st) || cur.Reason == TimedOutReason {
		return
	}
	after := cur.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(now)
	key := d.Namespace + "/" + d.Name
	if after < time.Second {
		c.queue.AddRateLimited(key)
		return
	}
	c.queue.AddAfter(key, after+time.Second)
}

// checkPaused notes pausing and resuming in the Progressing condition
// (Unknown DeploymentPaused / DeploymentResumed), so a long pause does not
// count against the progress deadline; a timed-out rollout keeps its
// condition.
func (c *Controller) checkPaused(ctx context.Context, d *appsv1.Deployment) error {
	if !hasProgressDeadline(d) {
		return nil
	}
	cur := condition(d.Status, appsv1.DeploymentProgressing)
	if cur != nil && cur.Reason == TimedOutReason {
		return nil
	}
	paused := cur != nil && cur.Reason == PausedReason
	st := *d.Status.DeepCopy()
	switch {
	case d.Spec.Paused && !paused:
		setCondition(&st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, PausedReason, "Deployment is paused", c.clock.Now()))
	case !d.Spec.Paused && paused:
		setCondition(&st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ResumedReason, "Deployment is resumed", c.clock.Now()))
	default:
		return nil
	}
	return c.writeStatus(ctx, d, st)
}

// cleanup deletes the oldest old ReplicaSets beyond revisionHistoryLimit
// that run nothing and whose status is current.
func (c *Controller) cleanup(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet) error {
	if d.Spec.RevisionHistoryLimit == nil {
		return nil
	}
	var alive []*appsv1.ReplicaSet
	for _, rs := range old {
		if rs != nil && rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	diff := len(alive) - int(*d.Spec.RevisionHistoryLimit)
	if diff <= 0 {
		return nil
	}
	byRevision(alive)
	for _, rs := range alive[:diff] {
		if rs.Status.Replicas != 0 || rsReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		err := c.client.AppsV1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete old replicaset %s/%s: %w", rs.Namespace, rs.Name, err)
		}
	}
	return nil
}
