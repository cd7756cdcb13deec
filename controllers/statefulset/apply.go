package statefulset

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// apply makes the claims of pending pods and of the pods to create, then
// creates, deletes and relabels the planned pods. A pod whose claims
// cannot be made is not created.
func (c *Controller) apply(ctx context.Context, s state, a Actions) error {
	var errs []error
	for _, pod := range s.pods {
		if pod.Status.Phase == corev1.PodPending && pod.DeletionTimestamp == nil {
			errs = append(errs, c.ensureClaims(ctx, s.set, pod, ordinal(pod)))
		}
	}
	for _, pod := range a.Create {
		errs = append(errs, c.createPod(ctx, s.set, pod))
	}
	for _, pod := range a.Delete {
		errs = append(errs, c.deletePod(ctx, s.set, pod))
	}
	for _, pod := range a.Relabel {
		errs = append(errs, c.relabelPod(ctx, s.set, pod))
	}
	if a.changes() {
		c.log.Debug("stateful pods synced", "statefulset", s.set.Namespace+"/"+s.set.Name, "created", len(a.Create), "deleted", len(a.Delete))
	}
	return errors.Join(errs...)
}

func (c *Controller) createPod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	if err := c.ensureClaims(ctx, set, pod, ordinal(pod)); err != nil {
		return err
	}
	_, err := c.client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) || (apierrors.IsForbidden(err) && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause)) {
		return nil // the cache lags, or the namespace is going
	}
	c.podEvent("create", set, pod, err)
	if err != nil {
		return fmt.Errorf("create pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// deletePod deletes the pod it was given: another of the same name (a
// conflict on the UID precondition) is left alone.
func (c *Controller) deletePod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	c.podEvent("delete", set, pod, err)
	if err != nil {
		return fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

func (c *Controller) relabelPod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	_, err := c.client.CoreV1().Pods(pod.Namespace).Update(ctx, pod, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	c.podEvent("update", set, pod, err)
	if err != nil {
		return fmt.Errorf("relabel pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// podEvent records a pod write on the set in kube's words: reason
// Successful<Verb> or Failed<Verb>, "<verb> Pod <pod> in StatefulSet
// <set> successful" or "... failed error: <err>".
func (c *Controller) podEvent(verb string, set *appsv1.StatefulSet, pod *corev1.Pod, err error) {
	title := strings.ToUpper(verb[:1]) + verb[1:]
	if err == nil {
		c.events.Eventf(set, corev1.EventTypeNormal, "Successful"+title, "%s Pod %s in StatefulSet %s successful", verb, pod.Name, set.Name)
		return
	}
	c.events.Eventf(set, corev1.EventTypeWarning, "Failed"+title, "%s Pod %s in StatefulSet %s failed error: %s", verb, pod.Name, set.Name, err)
}
