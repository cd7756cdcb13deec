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
		if err := c.ensureClaims(ctx, s.set, pod, ordinal(pod)); err != nil {
			errs = append(errs, err)
			continue
		}
		_, err := c.client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) || (apierrors.IsForbidden(err) && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause)) {
			continue // the cache lags, or the namespace is going
		}
		c.podEvent("create", s.set, pod, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("create pod %s/%s: %w", pod.Namespace, pod.Name, err))
		}
	}
	for _, pod := range a.Delete {
		err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			continue // gone already, or another pod of the name now
		}
		c.podEvent("delete", s.set, pod, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err))
		}
	}
	for _, pod := range a.Relabel {
		_, err := c.client.CoreV1().Pods(pod.Namespace).Update(ctx, pod, metav1.UpdateOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		c.podEvent("update", s.set, pod, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("relabel pod %s/%s: %w", pod.Namespace, pod.Name, err))
		}
	}
	if a.changes() {
		c.log.Debug("stateful pods synced", "statefulset", s.set.Namespace+"/"+s.set.Name, "created", len(a.Create), "deleted", len(a.Delete))
	}
	return errors.Join(errs...)
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
