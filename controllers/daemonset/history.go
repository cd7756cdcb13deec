package daemonset

import (
	"context"
	"fmt"
	"reflect"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/controllers/internal/revision"
)

// defaultHistoryLimit is spec.revisionHistoryLimit's default.
const defaultHistoryLimit = 10

// history returns the DaemonSet's current revision, creating it or
// raising its number above the others' (as after `kubectl rollout undo`)
// as needed, and its old revisions.
func (c *Controller) history(ctx context.Context, ds *appsv1.DaemonSet, sel labels.Selector) (*appsv1.ControllerRevision, []*appsv1.ControllerRevision, error) {
	data, err := revision.Data(&ds.Spec.Template)
	if err != nil {
		return nil, nil, fmt.Errorf("daemonset %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	all, err := revision.Owned(ctx, c.client, c.revisions, ds, "DaemonSet", sel, func(ctx context.Context) (metav1.Object, error) {
		return c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	})
	if err != nil {
		return nil, nil, err
	}
	var cur, old []*appsv1.ControllerRevision
	next := int64(1)
	for _, r := range all {
		if revision.Same(r.Data.Raw, data) {
			cur = append(cur, r)
			continue
		}
		old = append(old, r)
		next = max(next, r.Revision+1)
	}
	if len(cur) == 0 {
		r, err := c.snapshot(ctx, ds, data, next)
		return r, old, err
	}
	sort.Slice(cur, func(i, j int) bool { return cur[i].Revision > cur[j].Revision })
	old = append(old, cur[1:]...) // duplicates: cleaned up as old ones
	if cur[0].Revision >= next {
		return cur[0], old, nil
	}
	r := cur[0].DeepCopy()
	r.Revision = next
	r, err = c.client.AppsV1().ControllerRevisions(ds.Namespace).Update(ctx, r, metav1.UpdateOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("renumber revision %s/%s: %w", ds.Namespace, cur[0].Name, err)
	}
	return r, old, nil
}

// snapshot creates the revision of the DaemonSet's template. A revision of
// that name with other data is a hash collision: the collision count goes
// up (changing the hash) and the sync is retried.
func (c *Controller) snapshot(ctx context.Context, ds *appsv1.DaemonSet, data []byte, number int64) (*appsv1.ControllerRevision, error) {
	hash := revision.Hash(&ds.Spec.Template, ds.Status.CollisionCount)
	r := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: ds.Name + "-" + hash, Namespace: ds.Namespace,
			Labels:          withLabel(ds.Spec.Template.Labels, appsv1.DefaultDaemonSetUniqueLabelKey, hash),
			Annotations:     copyLabels(ds.Annotations),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, appsv1.SchemeGroupVersion.WithKind("DaemonSet"))}},
		Data: runtime.RawExtension{Raw: data}, Revision: number}
	created, err := c.client.AppsV1().ControllerRevisions(ds.Namespace).Create(ctx, r, metav1.CreateOptions{})
	if err == nil {
		return created, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create revision %s/%s: %w", ds.Namespace, r.Name, err)
	}
	existing, err := c.client.AppsV1().ControllerRevisions(ds.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get revision %s/%s: %w", ds.Namespace, r.Name, err)
	}
	if ref := metav1.GetControllerOf(existing); ref != nil && ref.UID == ds.UID && revision.Same(existing.Data.Raw, data) {
		return existing, nil
	}
	return nil, c.bumpCollisionCount(ctx, ds, r.Name)
}

func (c *Controller) bumpCollisionCount(ctx context.Context, ds *appsv1.DaemonSet, name string) error {
	cur, err := c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get daemonset %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	if !reflect.DeepEqual(cur.Status.CollisionCount, ds.Status.CollisionCount) {
		return fmt.Errorf("daemonset %s/%s: stale collision count, retrying", ds.Namespace, ds.Name)
	}
	n := int32(1)
	if cur.Status.CollisionCount != nil {
		n = *cur.Status.CollisionCount + 1
	}
	cur.Status.CollisionCount = &n
	if _, err := c.client.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("raise collision count of daemonset %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	return fmt.Errorf("daemonset %s/%s: revision name %s collides, collision count now %d", ds.Namespace, ds.Name, name, n)
}

func withLabel(in map[string]string, k, v string) map[string]string {
	out := copyLabels(in)
	out[k] = v
	return out
}

// cleanupHistory deletes the oldest old revisions beyond
// revisionHistoryLimit that no live pod was made from.
func (c *Controller) cleanupHistory(ctx context.Context, ds *appsv1.DaemonSet, old []*appsv1.ControllerRevision, s state) error {
	limit := defaultHistoryLimit
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = int(*ds.Spec.RevisionHistoryLimit)
	}
	excess := len(old) - limit
	if excess <= 0 {
		return nil
	}
	live := map[string]bool{}
	for _, pods := range s.byNode {
		for _, pod := range pods {
			live[pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] = true
		}
	}
	sort.Slice(old, func(i, j int) bool { return old[i].Revision < old[j].Revision })
	for _, r := range old {
		if excess == 0 {
			break
		}
		if live[r.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] {
			continue
		}
		err := c.client.AppsV1().ControllerRevisions(ds.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete revision %s/%s: %w", ds.Namespace, r.Name, err)
		}
		excess--
	}
	return nil
}
