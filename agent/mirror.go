package agent

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A mirror pod is a static pod's face in the API: same name and spec,
// annotated kubernetes.io/config.mirror=<hash>. The agent never runs it; it
// recreates it when it is deleted or stale and deletes it when its static
// pod is gone. A static pod's status is written to its mirror.

// syncStatic runs a static pod and keeps its mirror pod in the API.
func (a *Agent) syncStatic(ctx context.Context, pod *corev1.Pod) error {
	mirrorErr := a.ensureMirror(ctx, pod)
	return errors.Join(a.syncPod(ctx, pod), mirrorErr)
}

// cachedPod returns the informer's pod with this key once the informer
// has synced: before, the API is not (yet) reachable.
func (a *Agent) cachedPod(key string) (*corev1.Pod, bool) {
	if !a.pods.HasSynced() {
		return nil, false
	}
	obj, ok, err := a.pods.GetIndexer().GetByKey(key)
	if err != nil || !ok {
		return nil, false
	}
	return obj.(*corev1.Pod), true
}

// ensureMirror creates the static pod's mirror pod if the API lacks it and
// deletes a stale one (another hash, or being deleted); the informer's
// delete event then brings the pod back here to create the new one.
func (a *Agent) ensureMirror(ctx context.Context, pod *corev1.Pod) error {
	if !a.pods.HasSynced() {
		return nil // housekeeping queues the static pods once it has
	}
	m, ok := a.cachedPod(podKey(pod))
	switch {
	case !ok:
		return a.createMirror(ctx, pod)
	case !isMirror(m):
		a.log.Warn("an API pod has the name of a static pod; no mirror pod", "pod", podKey(pod))
		return nil
	case m.Annotations[annotationConfigMirror] != string(pod.UID) || m.DeletionTimestamp != nil:
		return a.deleteMirror(ctx, m)
	}
	return nil
}

// createMirror creates the mirror pod, owned by this node's Node: the API
// server takes a node's mirror pods only with that owner (its UID read now,
// as the Node may have been registered anew). Until the node has
// registered itself, the error sends the pod back for a later try.
func (a *Agent) createMirror(ctx context.Context, pod *corev1.Pod) error {
	node, err := a.client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("mirror pod %s: reading its owner, node %s: %w", podKey(pod), a.cfg.NodeName, err)
	}
	_, err = a.client.CoreV1().Pods(pod.Namespace).Create(ctx, mirrorPod(pod, node), metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil // the cache is behind; its event brings the pod back
	}
	return err
}

// mirrorPod is the API object for a static pod, owned by node as kubelet's
// mirror client sets it: the Node is its controller, not blocking its
// deletion.
func mirrorPod(pod *corev1.Pod, node *corev1.Node) *corev1.Pod {
	controller := true
	m := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: pod.Name, Namespace: pod.Namespace,
		Labels: pod.Labels, Annotations: map[string]string{},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID, Controller: &controller}},
	}, Spec: *pod.Spec.DeepCopy()}
	for k, v := range pod.Annotations {
		m.Annotations[k] = v
	}
	m.Annotations[annotationConfigMirror] = string(pod.UID)
	return m
}

// deleteMirror deletes a mirror pod at once.
func (a *Agent) deleteMirror(ctx context.Context, m *corev1.Pod) error {
	zero := int64(0)
	uid := m.UID
	opts := metav1.DeleteOptions{GracePeriodSeconds: &zero}
	if uid != "" {
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	err := a.client.CoreV1().Pods(m.Namespace).Delete(ctx, m.Name, opts)
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}
