package scheduler

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

// sync schedules one pod: compute the node from the caches, then bind, or
// record why nothing fits. An unschedulable pod is not an error: it waits
// for a node change or the resync. A pod whose WaitForFirstConsumer claims
// are not bound yet has them bound or provisioned for the chosen node
// first, and waits for that (kube's VolumeBinding PreBind, without
// blocking the one worker).
func (c *Controller) sync(ctx context.Context, key string) error {
	pod, err := c.pod(key)
	if err != nil || pod == nil || !needsScheduling(pod, c.cfg.SchedulerName) || c.assumed.has(key, pod) {
		return err // gone, bound, or bound here and the cache lags
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	podsByNode, err := c.podsByNode()
	if err != nil {
		return err
	}
	st, err := c.volumeState(pod)
	if err != nil {
		return err
	}
	vols := classifyVolumes(pod, st)
	switch {
	case vols.preFilter != "":
		fe := &FitError{NumAllNodes: len(nodes), PreFilter: vols.preFilter}
		return c.recordUnschedulable(ctx, pod, fe.Error())
	case vols.waiting:
		return nil // a claim change brings the pod back
	}
	node, _, err := schedule(pod, nodes, podsByNode, vols.check)
	if IsUnschedulable(err) {
		return c.recordUnschedulable(ctx, pod, err.Error())
	}
	if err != nil {
		return fmt.Errorf("schedule pod %s: %w", key, err)
	}
	if len(vols.unbound) > 0 {
		return c.prebind(ctx, pod, vols, nodeNamed(nodes, node))
	}
	return c.bind(ctx, key, pod, node)
}

func nodeNamed(nodes []*corev1.Node, name string) *corev1.Node {
	for _, n := range nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// pod returns the cached pod for key, or nil when it is gone.
func (c *Controller) pod(key string) (*corev1.Pod, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil, fmt.Errorf("pod key %q: %w", key, err)
	}
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return pod, err
}

// podsByNode groups the bound pods of the cache, and the pods assumed
// bound here that the cache does not show yet, by node.
func (c *Controller) podsByNode() (map[string][]*corev1.Pod, error) {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	byNode := map[string][]*corev1.Pod{}
	for _, p := range append(pods, c.assumed.pending(c.cached)...) {
		if holdsResources(p) {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	return byNode, nil
}

func (c *Controller) cached(key string) (*corev1.Pod, bool) {
	pod, err := c.pod(key)
	return pod, err == nil && pod != nil
}

// bind assumes the pod on node, then posts the binding; the assumption is
// dropped again if the binding fails.
func (c *Controller) bind(ctx context.Context, key string, pod *corev1.Pod, node string) error {
	c.assumed.assume(key, pod, node)
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", APIVersion: "v1", Name: node},
	}
	if err := c.client.CoreV1().Pods(pod.Namespace).Bind(ctx, b, metav1.CreateOptions{}); err != nil {
		c.assumed.forget(key)
		return fmt.Errorf("bind pod %s to node %s: %w", key, node, err)
	}
	c.log.Info("scheduled pod", "pod", key, "node", node)
	msg := fmt.Sprintf("Successfully assigned %s to %s", key, node)
	c.event(ctx, pod, corev1.EventTypeNormal, ReasonScheduled, msg)
	return nil
}

// recordUnschedulable writes PodScheduled=False/Unschedulable and a
// FailedScheduling event, unless the pod already carries this message.
func (c *Controller) recordUnschedulable(ctx context.Context, pod *corev1.Pod, msg string) error {
	updated, changed := withUnschedulable(pod, msg, c.clock.Now())
	if !changed {
		return nil
	}
	if _, err := c.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("mark pod %s/%s unschedulable: %w", pod.Namespace, pod.Name, err)
	}
	c.log.Info("pod unschedulable", "pod", pod.Namespace+"/"+pod.Name, "reason", msg)
	c.event(ctx, pod, corev1.EventTypeWarning, ReasonFailedScheduling, msg)
	return nil
}

// event writes an event; losing one is not worth retrying the pod for.
func (c *Controller) event(ctx context.Context, pod *corev1.Pod, eventType, reason, msg string) {
	if err := c.events.record(ctx, pod, eventType, reason, msg); err != nil {
		c.log.Warn("write event", "err", err)
	}
}
