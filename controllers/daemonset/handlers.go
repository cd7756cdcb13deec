package daemonset

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

func (c *Controller) enqueue(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

func (c *Controller) enqueueAll() {
	sets, _ := c.sets.List(labels.Everything())
	for _, ds := range sets {
		c.queue.Add(ds.Namespace + "/" + ds.Name)
	}
}

// ownerKey is the key of obj's controlling DaemonSet, or "".
func ownerKey(obj any) string {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return ""
	}
	ref := metav1.GetControllerOfNoCopy(m)
	if ref == nil || ref.Kind != "DaemonSet" || ref.APIVersion != "apps/v1" {
		return ""
	}
	return m.GetNamespace() + "/" + ref.Name
}

func (c *Controller) enqueueOwner(obj any) {
	if key := ownerKey(obj); key != "" {
		c.queue.Add(key)
	}
}

// enqueueMatching queues, for a pod no controller owns, the DaemonSets
// whose selector matches it (one may adopt it).
func (c *Controller) enqueueMatching(pod *corev1.Pod) {
	if metav1.GetControllerOfNoCopy(pod) != nil {
		return
	}
	sets, _ := c.sets.DaemonSets(pod.Namespace).List(labels.Everything())
	for _, ds := range sets {
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(pod.Labels)) {
			c.queue.Add(ds.Namespace + "/" + ds.Name)
		}
	}
}

func (c *Controller) podAdded(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	c.enqueueMatching(pod)
	if key := ownerKey(pod); key != "" {
		c.expect.Created(key)
		if pod.DeletionTimestamp != nil {
			c.expect.Deleted(key, pod.UID)
		}
		c.queue.Add(key)
	}
}

func (c *Controller) podUpdated(old, obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	c.enqueueMatching(pod)
	if key := ownerKey(pod); key != "" {
		if pod.DeletionTimestamp != nil {
			c.expect.Deleted(key, pod.UID)
		}
		c.queue.Add(key)
	}
	if prev := ownerKey(old); prev != "" && prev != ownerKey(pod) {
		c.queue.Add(prev)
	}
}

func (c *Controller) podDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if key := ownerKey(pod); key != "" {
		c.expect.Deleted(key, pod.UID)
		c.queue.Add(key)
	}
}

// nodeUpdated syncs every DaemonSet when what decides placement changed:
// labels, taints, or the unschedulable flag.
func (c *Controller) nodeUpdated(old, obj any) {
	a, ok1 := old.(*corev1.Node)
	b, ok2 := obj.(*corev1.Node)
	if ok1 && ok2 && equality.Semantic.DeepEqual(a.Labels, b.Labels) &&
		equality.Semantic.DeepEqual(a.Spec.Taints, b.Spec.Taints) && a.Spec.Unschedulable == b.Spec.Unschedulable {
		return
	}
	c.enqueueAll()
}
