package replicaset

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/nodeagent/nodeagent/controllers/internal/claim"
)

// sync claims one ReplicaSet's pods, creates or deletes pods towards
// spec.replicas (when its expectations are met and it is not being
// deleted) and writes its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	rs, err := c.sets.ReplicaSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.Forget(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get replicaset %s from cache: %w", key, err)
	}
	sel, err := claim.Selector(rs.Spec.Selector)
	if err != nil {
		c.log.Warn("replicaset has an invalid selector", "key", key, "err", err)
		return nil
	}
	needsSync := c.exp.Satisfied(key)
	pods, err := c.claimPods(ctx, rs, sel)
	if err != nil {
		return err
	}
	var manageErr error
	scaledUp := len(pods) < int(replicas(rs))
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manage(ctx, rs, key, pods)
	}
	updated, err := c.writeStatus(ctx, rs, Status(rs, pods, manageErr, scaledUp, c.clock.Now()))
	if err != nil {
		return err
	}
	if manageErr == nil && rs.Spec.MinReadySeconds > 0 && updated.Status.ReadyReplicas == replicas(rs) &&
		updated.Status.AvailableReplicas != replicas(rs) {
		c.queue.AddAfter(key, time.Duration(rs.Spec.MinReadySeconds)*time.Second)
	}
	return manageErr
}

func replicas(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// claimPods returns the active pods the ReplicaSet owns, adopting and
// releasing as its selector says.
func (c *Controller) claimPods(ctx context.Context, rs *appsv1.ReplicaSet, sel labels.Selector) ([]*corev1.Pod, error) {
	all, err := c.pods.Pods(rs.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list pods of %s/%s from cache: %w", rs.Namespace, rs.Name, err)
	}
	var active []*corev1.Pod
	for _, p := range all {
		if IsPodActive(p) {
			active = append(active, p)
		}
	}
	owner := claim.Patching(rs, "ReplicaSet", sel, func(ctx context.Context) (metav1.Object, error) {
		return c.client.AppsV1().ReplicaSets(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
	}, claim.PodPatcher(c.client, rs.Namespace))
	owned, err := claim.Objects(ctx, owner, active)
	if err != nil {
		return nil, fmt.Errorf("claim pods of %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	return owned, nil
}

// writeStatus writes st unless the ReplicaSet has it already, retrying
// once on a fresh read after a failure.
func (c *Controller) writeStatus(ctx context.Context, rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	st.ObservedGeneration = rs.Generation
	if apiequality.Semantic.DeepEqual(rs.Status, st) {
		return rs, nil
	}
	sets := c.client.AppsV1().ReplicaSets(rs.Namespace)
	next := rs.DeepCopy()
	next.Status = st
	updated, err := sets.UpdateStatus(ctx, next, metav1.UpdateOptions{})
	if err == nil || apierrors.IsNotFound(err) {
		return updated, nil
	}
	fresh, gerr := sets.Get(ctx, rs.Name, metav1.GetOptions{})
	if gerr != nil {
		return nil, fmt.Errorf("update status of %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	fresh.Status = st
	updated, err = sets.UpdateStatus(ctx, fresh, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("update status of %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	return updated, nil
}
