package deployment

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/controllers/internal/claim"
)

// newAndOld returns the Deployment's new ReplicaSet (created, sized as the
// strategy allows, when create and it has none) and the old ones, with the
// new one's revision (max of the old + 1), annotations and minReadySeconds
// brought up to date and the Deployment's revision annotation set from it.
func (c *Controller) newAndOld(ctx context.Context, d *appsv1.Deployment, sets []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	existing, old := split(d, sets)
	rev := strconv.FormatInt(maxRevision(old)+1, 10)
	if existing != nil {
		return existing, old, c.syncNewRS(ctx, d, existing, rev)
	}
	if !create {
		return nil, old, nil
	}
	created, err := c.createNewRS(ctx, d, old, rev)
	return created, old, err
}

// syncNewRS updates the existing new ReplicaSet (in place), or else the
// Deployment's revision, and notes FoundNewReplicaSet when no Progressing
// condition is there yet.
func (c *Controller) syncNewRS(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, rev string) error {
	next := rs.DeepCopy()
	changed := setNewRSAnnotations(d, next, rev, true)
	if changed || next.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
		next.Spec.MinReadySeconds = d.Spec.MinReadySeconds
		updated, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, next, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("update replicaset %s/%s: %w", rs.Namespace, rs.Name, err)
		}
		*rs = *updated
		return nil
	}
	if err := c.setRevision(ctx, d, rs.Annotations[RevisionAnnotation]); err != nil {
		return err
	}
	if hasProgressDeadline(d) && condition(d.Status, appsv1.DeploymentProgressing) == nil {
		st := *d.Status.DeepCopy()
		setCondition(&st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, FoundNewRSReason,
			fmt.Sprintf("Found new replica set %q", rs.Name), c.clock.Now()))
		return c.writeStatus(ctx, d, st)
	}
	return nil
}

// setRevision sets the Deployment's revision annotation (a metadata patch,
// whatever the status endpoint does with metadata).
func (c *Controller) setRevision(ctx context.Context, d *appsv1.Deployment, rev string) error {
	if rev == "" || d.Annotations[RevisionAnnotation] == rev {
		return nil
	}
	body := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, RevisionAnnotation, rev)
	updated, err := c.client.AppsV1().Deployments(d.Namespace).Patch(ctx, d.Name, types.MergePatchType, []byte(body), metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("set revision of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	st := d.Status
	d.ObjectMeta = updated.ObjectMeta
	d.Status = st
	return nil
}

// newRSFor is the new ReplicaSet of the Deployment's template: named
// <deployment>-<hash>, the hash label added to its labels, selector and
// template, the Deployment as controller, sized as the strategy allows.
func newRSFor(d *appsv1.Deployment, old []*appsv1.ReplicaSet, rev string) *appsv1.ReplicaSet {
	hash := ComputeHash(&d.Spec.Template, d.Status.CollisionCount)
	tmpl := d.Spec.Template.DeepCopy()
	tmpl.Labels = withLabel(tmpl.Labels, hash)
	sel := d.Spec.Selector.DeepCopy()
	sel.MatchLabels = withLabel(sel.MatchLabels, hash)
	zero := int32(0)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-" + hash, Namespace: d.Namespace, Labels: tmpl.Labels,
			OwnerReferences: []metav1.OwnerReference{claim.ControllerRef(d, "apps/v1", "Deployment")}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &zero, MinReadySeconds: d.Spec.MinReadySeconds, Selector: sel, Template: *tmpl},
	}
	n := newRSReplicas(d, append(old, rs), rs)
	rs.Spec.Replicas = &n
	setNewRSAnnotations(d, rs, rev, false)
	return rs
}

func withLabel(in map[string]string, hash string) map[string]string {
	out := make(map[string]string, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	out[HashLabel] = hash
	return out
}

// createNewRS creates the new ReplicaSet. A name taken by a ReplicaSet of
// another template (a hash collision) bumps status.collisionCount, so the
// next sync hashes differently.
func (c *Controller) createNewRS(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet, rev string) (*appsv1.ReplicaSet, error) {
	rs := newRSFor(d, old, rev)
	created, err := c.client.AppsV1().ReplicaSets(d.Namespace).Create(ctx, rs, metav1.CreateOptions{})
	existed := apierrors.IsAlreadyExists(err)
	switch {
	case existed:
		created, err = c.sameTemplate(ctx, d, rs.Name)
		if err != nil {
			return nil, err
		}
	case err != nil:
		return nil, c.createFailed(ctx, d, rs.Name, err)
	}
	if !existed && rsReplicas(created) > 0 {
		c.rec.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", created.Name, rsReplicas(created))
	}
	if err := c.setRevision(ctx, d, rev); err != nil {
		return nil, err
	}
	if !existed && hasProgressDeadline(d) {
		st := *d.Status.DeepCopy()
		setCondition(&st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, NewRSReason,
			fmt.Sprintf("Created new replica set %q", created.Name), c.clock.Now()))
		if err := c.writeStatus(ctx, d, st); err != nil {
			return nil, err
		}
	}
	return created, nil
}

// sameTemplate reads the ReplicaSet that has the new one's name: ours with
// the Deployment's template (the cache had not shown it yet), or a
// collision.
func (c *Controller) sameTemplate(ctx context.Context, d *appsv1.Deployment, name string) (*appsv1.ReplicaSet, error) {
	rs, err := c.client.AppsV1().ReplicaSets(d.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get replicaset %s/%s: %w", d.Namespace, name, err)
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.UID == d.UID && EqualIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
		return rs, nil
	}
	st := *d.Status.DeepCopy()
	st.CollisionCount = new(int32)
	if d.Status.CollisionCount != nil {
		*st.CollisionCount = *d.Status.CollisionCount + 1
	} else {
		*st.CollisionCount = 1
	}
	if err := c.writeStatus(ctx, d, st); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("replicaset %s/%s exists with another template: collision count now %d", d.Namespace, name, *st.CollisionCount)
}

// createFailed records a failed create: kube's event, and a Progressing
// False ReplicaSetCreateError condition.
func (c *Controller) createFailed(ctx context.Context, d *appsv1.Deployment, name string, err error) error {
	msg := fmt.Sprintf("Failed to create new replica set %q: %v", name, err)
	c.rec.Eventf(d, corev1.EventTypeWarning, FailedRSCreateReason, "%s", msg)
	if hasProgressDeadline(d) {
		st := *d.Status.DeepCopy()
		setCondition(&st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, FailedRSCreateReason, msg, c.clock.Now()))
		if werr := c.writeStatus(ctx, d, st); werr != nil {
			c.log.Warn("write status", "deployment", d.Namespace+"/"+d.Name, "err", werr)
		}
	}
	return fmt.Errorf("create replicaset %s/%s: %w", d.Namespace, name, err)
}

// newRSReplicas is the size the new ReplicaSet may have now: the desired
// replicas for Recreate; for RollingUpdate, as many more as maxSurge
// leaves room for, up to the desired replicas.
func newRSReplicas(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	if !isRollingUpdate(d) {
		return replicasOf(d)
	}
	most := replicasOf(d) + MaxSurge(d)
	current := sumSpec(all)
	if current >= most {
		return rsReplicas(newRS)
	}
	return rsReplicas(newRS) + min(most-current, replicasOf(d)-rsReplicas(newRS))
}

// setNewRSAnnotations copies the Deployment's annotations (but kube's
// skipped ones) to the ReplicaSet, raises its revision to rev keeping the
// ones it had in revision-history, and sizes a ReplicaSet about to be
// created in desired-replicas and max-replicas. It says whether anything
// changed.
func setNewRSAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet, rev string, exists bool) bool {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	changed := false
	for k, v := range d.Annotations {
		if !notCopied[k] && rs.Annotations[k] != v {
			rs.Annotations[k] = v
			changed = true
		}
	}
	old, had := rs.Annotations[RevisionAnnotation]
	oldN, err := strconv.ParseInt(old, 10, 64)
	if had && err != nil {
		return changed
	}
	newN, _ := strconv.ParseInt(rev, 10, 64)
	if oldN < newN {
		rs.Annotations[RevisionAnnotation] = rev
		changed = true
		if had {
			addHistory(rs, old)
		}
	}
	if !exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d)+MaxSurge(d)) {
		changed = true
	}
	return changed
}

// addHistory appends a revision a rolled-back-to ReplicaSet had to its
// revision-history, dropping the oldest past maxRevisionHistoryChars.
func addHistory(rs *appsv1.ReplicaSet, old string) {
	h := rs.Annotations[RevisionHistoryAnnotation]
	if h == "" {
		rs.Annotations[RevisionHistoryAnnotation] = old
		return
	}
	revs := strings.Split(h, ",")
	total := len(h) + len(old) + 1
	start := 0
	for total > maxRevisionHistoryChars && start < len(revs) {
		total -= len(revs[start]) + 1
		start++
	}
	if total <= maxRevisionHistoryChars {
		rs.Annotations[RevisionHistoryAnnotation] = strings.Join(append(revs[start:], old), ",")
	}
}
