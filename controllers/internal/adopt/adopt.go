// Package adopt is kube's ControllerRefManager for pods, shared by the
// DaemonSet and StatefulSet controllers: an owner's pods are those it
// controls whose labels match its selector; an orphan that matches is
// adopted (the owner becomes its controller), and a controlled pod that
// no longer matches is released (the owner's reference is removed), so
// that `kubectl delete --cascade=orphan` and a new owner, or a relabelled
// pod, behave as with kube.
package adopt

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// Owner is a controller that owns pods.
type Owner struct {
	Meta     metav1.Object
	Kind     schema.GroupVersionKind
	Selector labels.Selector
	// Member reports whether a pod may belong to the owner at all
	// (beyond the selector); nil accepts every pod.
	Member func(*corev1.Pod) bool
	// Fresh reads the owner from the API server: adoption waits for it to
	// be there, the same object, and not being deleted.
	Fresh func(context.Context) (metav1.Object, error)
}

// Pods returns the owner's pods among pods (its namespace's), adopting
// matching orphans and releasing controlled pods that no longer match.
func Pods(ctx context.Context, client kubernetes.Interface, o Owner, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	var out, orphans []*corev1.Pod
	var errs []error
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		matches := o.Selector.Matches(labels.Set(pod.Labels)) && (o.Member == nil || o.Member(pod))
		switch {
		case ref != nil && ref.UID != o.Meta.GetUID():
		case ref != nil && (matches || o.Meta.GetDeletionTimestamp() != nil):
			out = append(out, pod)
		case ref != nil:
			errs = append(errs, release(ctx, client, o, pod))
		case matches && pod.DeletionTimestamp == nil && o.Meta.GetDeletionTimestamp() == nil:
			orphans = append(orphans, pod)
		}
	}
	adopted, err := adopt(ctx, client, o, orphans)
	return append(out, adopted...), errors.Join(append(errs, err)...)
}

func adopt(ctx context.Context, client kubernetes.Interface, o Owner, orphans []*corev1.Pod) ([]*corev1.Pod, error) {
	if len(orphans) == 0 {
		return nil, nil
	}
	fresh, err := o.Fresh(ctx)
	if err != nil {
		return nil, fmt.Errorf("can't adopt pods: get %s %s/%s: %w", o.Kind.Kind, o.Meta.GetNamespace(), o.Meta.GetName(), err)
	}
	if fresh.GetUID() != o.Meta.GetUID() || fresh.GetDeletionTimestamp() != nil {
		return nil, nil // another object of the name, or going away: adopt nothing
	}
	var out []*corev1.Pod
	for _, pod := range orphans {
		p := pod.DeepCopy()
		p.OwnerReferences = append(p.OwnerReferences, *metav1.NewControllerRef(o.Meta, o.Kind))
		updated, err := client.CoreV1().Pods(p.Namespace).Update(ctx, p, metav1.UpdateOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("adopt pod %s/%s: %w", p.Namespace, p.Name, err)
		}
		out = append(out, updated)
	}
	return out, nil
}

func release(ctx context.Context, client kubernetes.Interface, o Owner, pod *corev1.Pod) error {
	p := pod.DeepCopy()
	p.OwnerReferences = nil
	for _, r := range pod.OwnerReferences {
		if r.UID != o.Meta.GetUID() {
			p.OwnerReferences = append(p.OwnerReferences, r)
		}
	}
	_, err := client.CoreV1().Pods(p.Namespace).Update(ctx, p, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("release pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}
