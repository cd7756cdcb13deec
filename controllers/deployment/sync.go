package deployment

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/nodeagent/nodeagent/controllers/internal/claim"
)

// sync claims a Deployment's ReplicaSets and then, as kube does: only
// writes the status of one being deleted; only scales (proportionally) a
// paused one or one whose replicas changed; else rolls it out with its
// strategy.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.deployments.Deployments(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get deployment %s from cache: %w", key, err)
	}
	d := cached.DeepCopy()
	if d.Spec.Selector == nil || apiequality.Semantic.DeepEqual(d.Spec.Selector, &metav1.LabelSelector{}) {
		return c.selectingAll(ctx, d)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		c.log.Warn("deployment has an invalid selector", "key", key, "err", err)
		return nil
	}
	sets, err := c.claimSets(ctx, d, sel)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		return c.statusOnly(ctx, d, sets)
	}
	if err := c.checkPaused(ctx, d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return c.scaleOnly(ctx, d, sets)
	}
	if scaling, err := c.isScalingEvent(ctx, d, sets); err != nil || scaling {
		if err != nil {
			return err
		}
		return c.scaleOnly(ctx, d, sets)
	}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return c.rolloutRecreate(ctx, d, sets, sel)
	}
	return c.rolloutRolling(ctx, d, sets)
}

// selectingAll refuses a Deployment with an empty selector, with kube's
// event, and records that it saw its generation.
func (c *Controller) selectingAll(ctx context.Context, d *appsv1.Deployment) error {
	c.rec.Eventf(d, corev1.EventTypeWarning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
	if d.Status.ObservedGeneration >= d.Generation {
		return nil
	}
	d.Status.ObservedGeneration = d.Generation
	_, err := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	return err
}

// claimSets returns the ReplicaSets the Deployment owns, adopting and
// releasing as its selector says.
func (c *Controller) claimSets(ctx context.Context, d *appsv1.Deployment, sel labels.Selector) ([]*appsv1.ReplicaSet, error) {
	all, err := c.sets.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list replicasets of %s/%s from cache: %w", d.Namespace, d.Name, err)
	}
	sets := c.client.AppsV1().ReplicaSets(d.Namespace)
	owner := claim.Patching(d, "Deployment", sel, func(ctx context.Context) (metav1.Object, error) {
		return c.client.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
	}, func(ctx context.Context, name string, body []byte) error {
		_, err := sets.Patch(ctx, name, types.StrategicMergePatchType, body, metav1.PatchOptions{})
		return err
	})
	owned, err := claim.Objects(ctx, owner, all)
	if err != nil {
		return nil, fmt.Errorf("claim replicasets of %s/%s: %w", d.Namespace, d.Name, err)
	}
	for i := range owned {
		owned[i] = owned[i].DeepCopy()
	}
	return owned, nil
}

// split returns the new ReplicaSet (the oldest whose template is the
// Deployment's, ignoring the hash label; nil if none) and the others.
func split(d *appsv1.Deployment, sets []*appsv1.ReplicaSet) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	sorted := append([]*appsv1.ReplicaSet(nil), sets...)
	byCreation(sorted)
	var newRS *appsv1.ReplicaSet
	var old []*appsv1.ReplicaSet
	for _, rs := range sorted {
		if newRS == nil && EqualIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			newRS = rs
			continue
		}
		old = append(old, rs)
	}
	return newRS, old
}

// isScalingEvent: an active ReplicaSet was sized for other desired
// replicas than the Deployment's (its desired-replicas annotation).
func (c *Controller) isScalingEvent(ctx context.Context, d *appsv1.Deployment, sets []*appsv1.ReplicaSet) (bool, error) {
	newRS, old, err := c.newAndOld(ctx, d, sets, false)
	if err != nil {
		return false, err
	}
	for _, rs := range active(append(old, newRS)) {
		if desired, ok := intAnnotation(rs, DesiredReplicasAnnotation); ok && desired != replicasOf(d) {
			return true, nil
		}
	}
	return false, nil
}

// scaleOnly scales the ReplicaSets to the Deployment's size (paused or
// scaled), cleans old ones up when paused, and writes the status.
func (c *Controller) scaleOnly(ctx context.Context, d *appsv1.Deployment, sets []*appsv1.ReplicaSet) error {
	newRS, old, err := c.newAndOld(ctx, d, sets, false)
	if err != nil {
		return err
	}
	if err := c.scale(ctx, d, newRS, old); err != nil {
		return err
	}
	if d.Spec.Paused {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.writeStatus(ctx, d, calculateStatus(append(old, newRS), newRS, d, c.clock.Now()))
}

// statusOnly writes the status of a Deployment being deleted.
func (c *Controller) statusOnly(ctx context.Context, d *appsv1.Deployment, sets []*appsv1.ReplicaSet) error {
	newRS, old, err := c.newAndOld(ctx, d, sets, false)
	if err != nil {
		return err
	}
	return c.writeStatus(ctx, d, calculateStatus(append(old, newRS), newRS, d, c.clock.Now()))
}

// writeStatus writes st unless the Deployment has it already, and keeps
// d up to date with what was written.
func (c *Controller) writeStatus(ctx context.Context, d *appsv1.Deployment, st appsv1.DeploymentStatus) error {
	if apiequality.Semantic.DeepEqual(d.Status, st) {
		return nil
	}
	d.Status = st
	updated, err := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update status of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	*d = *updated
	return nil
}
