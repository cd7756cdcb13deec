package statefulset

import (
	"context"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/controllers/internal/revision"
)

// hashLabel is the label kube's history package puts on revisions.
const hashLabel = "controller.kubernetes.io/hash"

// defaultHistoryLimit is spec.revisionHistoryLimit's default.
const defaultHistoryLimit = 10

// revisions are a set's current revision (status.currentRevision, the one
// pods below the partition keep), its update revision (the template's),
// their templates, the collision count, and all its revisions.
type revisions struct {
	current, update   *appsv1.ControllerRevision
	currentT, updateT *corev1.PodTemplateSpec
	collisions        int32
	all               []*appsv1.ControllerRevision
}

// revisionsOf finds, or makes, the set's update revision as kube does:
// the newest revision if its data is the template's; else the newest
// equal older one renumbered to come last (a rollback); else a new one.
// A set being deleted renumbers and makes none: nil, and nothing to do.
func (c *Controller) revisionsOf(ctx context.Context, set *appsv1.StatefulSet, sel labels.Selector) (*revisions, error) {
	data, err := revision.Data(&set.Spec.Template)
	if err != nil {
		return nil, fmt.Errorf("statefulset %s/%s: %w", set.Namespace, set.Name, err)
	}
	all, err := c.owned(ctx, set, sel)
	if err != nil {
		return nil, err
	}
	r := &revisions{all: all}
	if set.Status.CollisionCount != nil {
		r.collisions = *set.Status.CollisionCount
	}
	next := int64(1)
	if len(all) > 0 {
		next = all[len(all)-1].Revision + 1
	}
	var equal *appsv1.ControllerRevision
	for _, rev := range all {
		if revision.Same(rev.Data.Raw, data) {
			equal = rev
		}
	}
	switch {
	case equal != nil && equal == all[len(all)-1]:
		r.update = equal
	case set.DeletionTimestamp != nil:
		return nil, nil // a set being deleted makes no revision: it would be orphaned with the pods (kube fails the sync at adopting them)
	case equal != nil:
		r.update, err = c.renumber(ctx, equal, next)
	default:
		r.update, err = c.create(ctx, set, data, next, &r.collisions)
	}
	if err != nil {
		return nil, err
	}
	return r, r.resolve(set)
}

// resolve picks the current revision and decodes both templates.
func (r *revisions) resolve(set *appsv1.StatefulSet) error {
	r.current = r.update
	for _, rev := range r.all {
		if rev.Name == set.Status.CurrentRevision {
			r.current = rev
		}
	}
	var err error
	if r.updateT, err = revision.Template(r.update.Data.Raw); err != nil {
		return fmt.Errorf("revision %s/%s: %w", r.update.Namespace, r.update.Name, err)
	}
	if r.currentT, err = revision.Template(r.current.Data.Raw); err != nil {
		return fmt.Errorf("revision %s/%s: %w", r.current.Namespace, r.current.Name, err)
	}
	return nil
}

// owned lists the set's revisions (controller owner the set, orphans
// adopted as kube's adoptOrphanRevisions), oldest first.
func (c *Controller) owned(ctx context.Context, set *appsv1.StatefulSet, sel labels.Selector) ([]*appsv1.ControllerRevision, error) {
	out, err := revision.Owned(ctx, c.client, c.revisions, set, "StatefulSet", sel, func(ctx context.Context) (metav1.Object, error) {
		return c.client.AppsV1().StatefulSets(set.Namespace).Get(ctx, set.Name, metav1.GetOptions{})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Revision != out[j].Revision {
			return out[i].Revision < out[j].Revision
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func (c *Controller) renumber(ctx context.Context, rev *appsv1.ControllerRevision, next int64) (*appsv1.ControllerRevision, error) {
	r := rev.DeepCopy()
	r.Revision = next
	r, err := c.client.AppsV1().ControllerRevisions(r.Namespace).Update(ctx, r, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("renumber revision %s/%s: %w", rev.Namespace, rev.Name, err)
	}
	return r, nil
}

// maxCollisions bounds the names tried for one new revision in a sync.
const maxCollisions = 10

// create makes the revision "<set>-<hash>"; a name taken by other data
// raises the collision count (which changes the hash) and tries again.
func (c *Controller) create(ctx context.Context, set *appsv1.StatefulSet, data []byte, number int64, collisions *int32) (*appsv1.ControllerRevision, error) {
	for range maxCollisions {
		hash := revision.Hash(&set.Spec.Template, collisions)
		r := &appsv1.ControllerRevision{
			ObjectMeta: metav1.ObjectMeta{Name: set.Name + "-" + hash, Namespace: set.Namespace,
				Labels:          withLabel(set.Spec.Template.Labels, hashLabel, hash),
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(set, appsv1.SchemeGroupVersion.WithKind("StatefulSet"))}},
			Data: runtime.RawExtension{Raw: data}, Revision: number}
		created, err := c.client.AppsV1().ControllerRevisions(set.Namespace).Create(ctx, r, metav1.CreateOptions{})
		if err == nil {
			return created, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create revision %s/%s: %w", set.Namespace, r.Name, err)
		}
		existing, err := c.client.AppsV1().ControllerRevisions(set.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get revision %s/%s: %w", set.Namespace, r.Name, err)
		}
		if ref := metav1.GetControllerOf(existing); ref != nil && ref.UID == set.UID && revision.Same(existing.Data.Raw, data) {
			return existing, nil
		}
		*collisions++
	}
	return nil, fmt.Errorf("statefulset %s/%s: %d revision names collide, collision count now %d", set.Namespace, set.Name, maxCollisions, *collisions)
}

func withLabel(in map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(in)+1)
	for key, val := range in {
		out[key] = val
	}
	out[k] = v
	return out
}

// truncate deletes the oldest revisions beyond revisionHistoryLimit that
// are neither current, update, nor any pod's.
func (c *Controller) truncate(ctx context.Context, set *appsv1.StatefulSet, r *revisions, pods []*corev1.Pod) error {
	limit := defaultHistoryLimit
	if set.Spec.RevisionHistoryLimit != nil {
		limit = int(*set.Spec.RevisionHistoryLimit)
	}
	live := map[string]bool{r.current.Name: true, r.update.Name: true}
	for _, pod := range pods {
		live[pod.Labels[appsv1.ControllerRevisionHashLabelKey]] = true
	}
	var old []*appsv1.ControllerRevision
	for _, rev := range r.all {
		if !live[rev.Name] {
			old = append(old, rev)
		}
	}
	if limit < 0 || len(old) <= limit {
		return nil
	}
	for _, rev := range old[:len(old)-limit] {
		err := c.client.AppsV1().ControllerRevisions(rev.Namespace).Delete(ctx, rev.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete revision %s/%s: %w", rev.Namespace, rev.Name, err)
		}
	}
	return nil
}
