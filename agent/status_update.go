package agent

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// updateStatus writes the pod's status when it differs from what the API
// has; a pod that is gone is not an error.
func (a *Agent) updateStatus(ctx context.Context, pod *corev1.Pod, st podState) error {
	status := computePodStatus(pod, st, a.podSync.waitingReasons(pod.UID), a.nodeIP, a.clock.Now())
	if isStatic(pod) {
		return a.updateStaticStatus(ctx, pod, status)
	}
	if equality.Semantic.DeepEqual(status, pod.Status) {
		return nil
	}
	next := pod.DeepCopy()
	next.Status = status
	_, err := a.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, next, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if apierrors.IsConflict(err) {
		a.queue.Add(podWorkKey(pod)) // the cache is behind; the next sync retries
		return nil
	}
	return err
}
