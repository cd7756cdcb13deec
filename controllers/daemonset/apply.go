package daemonset

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// apply creates and deletes the planned pods, expecting to see each write
// in the pod cache before the DaemonSet is managed again.
func (c *Controller) apply(ctx context.Context, key string, ds *appsv1.DaemonSet, hash string, a Actions) error {
	a.Delete = c.holdFailed(key, ds, a.Delete)
	if a.Empty() {
		return nil
	}
	uids := make([]types.UID, len(a.Delete))
	for i, pod := range a.Delete {
		uids[i] = pod.UID
	}
	c.expect.Expect(key, len(a.Create), uids)
	var errs []error
	for _, node := range a.Create {
		pod := newPod(ds, node, hash)
		created, err := c.client.CoreV1().Pods(ds.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if err == nil {
			c.events.Eventf(ds, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", created.Name)
			continue
		}
		c.expect.Created(key)
		if !apierrors.IsForbidden(err) || !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.events.Eventf(ds, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
			errs = append(errs, fmt.Errorf("create pod of daemonset %s on node %s: %w", key, node, err))
		}
	}
	for _, pod := range a.Delete {
		err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		if err == nil {
			c.events.Eventf(ds, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", pod.Name)
			continue
		}
		c.expect.Deleted(key, pod.UID)
		if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			c.events.Eventf(ds, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
			errs = append(errs, fmt.Errorf("delete pod %s/%s of daemonset %s: %w", pod.Namespace, pod.Name, key, err))
		}
	}
	c.log.Debug("daemon pods synced", "daemonset", key, "created", len(a.Create), "deleted", len(a.Delete))
	return errors.Join(errs...)
}

// Failed daemon pods on a node are replaced at once the first time, then
// after a delay doubling from 1s to 15m (kube's failedPodsBackoff), so
// that the controller does not fight a kubelet that keeps rejecting them.
const (
	failedBackoffInitial = time.Second
	failedBackoffMax     = 15 * time.Minute
)

// holdFailed drops from dels the failed pods whose node is in backoff,
// syncing the DaemonSet again when it ends.
func (c *Controller) holdFailed(key string, ds *appsv1.DaemonSet, dels []*corev1.Pod) []*corev1.Pod {
	now := c.clock.Now()
	var out []*corev1.Pod
	for _, pod := range dels {
		if pod.Status.Phase != corev1.PodFailed {
			out = append(out, pod)
			continue
		}
		node, _ := targetNode(pod)
		id := key + "/" + node
		if c.failed.IsInBackOffSinceUpdate(id, now) {
			c.queue.AddAfter(key, c.failed.Get(id))
			continue
		}
		c.failed.Next(id, now)
		c.events.Eventf(ds, corev1.EventTypeWarning, "FailedDaemonPod", "Found failed daemon pod %s/%s on node %s, will try to kill it", pod.Namespace, pod.Name, node)
		out = append(out, pod)
	}
	return out
}
