package apiserver

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/api/podrefs"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// podGraph answers the Node authorizer's questions from storage, as kube's
// graph does: which node a pod is bound to, and whether a node's pods use
// a secret, configmap, claim or service account, or the volume bound to
// such a claim. Mirror pods count only as bound pods: what they name gives
// their node nothing (a node creates them itself). It lists the node's
// pods on each question; nodes ask rarely (when a pod starts), so nothing
// is cached.
type podGraph struct{ s *Server }

func (g *podGraph) store(resource string) *storage.Store {
	res, _ := g.s.reg.lookup("", "v1", resource)
	return g.s.store(res)
}

func (g *podGraph) PodNode(ctx context.Context, namespace, name string) (string, bool, error) {
	obj, err := g.store("pods").Get(ctx, namespace, name)
	if storage.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return obj.(*corev1.Pod).Spec.NodeName, true, nil
}

func (g *podGraph) Referenced(ctx context.Context, node, resource, namespace, name string) (bool, error) {
	if resource == "persistentvolumes" {
		return g.volumeReferenced(ctx, node, name)
	}
	pods, err := g.nodePods(ctx, node, namespace)
	if err != nil {
		return false, err
	}
	for _, pod := range pods {
		if slices.Contains(podrefs.Of(pod).Names(resource), name) {
			return true, nil
		}
	}
	return false, nil
}

// ObjectNode: the node of a volumeattachment (spec.nodeName) or of a
// local.nodeagent.io volume (its node affinity).
func (g *podGraph) ObjectNode(ctx context.Context, resource, name string) (string, error) {
	res, ok := g.s.reg.lookup("", "v1", resource)
	if resource == "volumeattachments" {
		res, ok = g.s.reg.lookup(storageV1.Group, storageV1.Version, resource)
	}
	if !ok {
		return "", nil
	}
	obj, err := g.s.store(res).Get(ctx, "", name)
	if storage.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	switch o := obj.(type) {
	case *storagev1.VolumeAttachment:
		return o.Spec.NodeName, nil
	case *corev1.PersistentVolume:
		node, _ := localvolume.Node(o)
		return node, nil
	}
	return "", nil
}

// volumeReferenced: the volume is bound to a claim a pod on the node uses.
func (g *podGraph) volumeReferenced(ctx context.Context, node, name string) (bool, error) {
	pods, err := g.nodePods(ctx, node, "")
	if err != nil {
		return false, err
	}
	for _, pod := range pods {
		for _, claim := range podrefs.Of(pod).Claims {
			obj, err := g.store("persistentvolumeclaims").Get(ctx, pod.Namespace, claim)
			if storage.IsNotFound(err) {
				continue
			}
			if err != nil {
				return false, err
			}
			if obj.(*corev1.PersistentVolumeClaim).Spec.VolumeName == name {
				return true, nil
			}
		}
	}
	return false, nil
}

// nodePods lists the pods bound to node in namespace ("" for all) that
// give the node access to what they name: mirror pods do not.
func (g *podGraph) nodePods(ctx context.Context, node, namespace string) ([]*corev1.Pod, error) {
	match := func(obj runtime.Object) bool {
		p := obj.(*corev1.Pod)
		return p.Spec.NodeName == node && !podrefs.IsMirror(p)
	}
	hints := storage.Hints{Fields: map[string]string{"spec.nodeName": node}}
	page, err := g.store("pods").List(ctx, namespace, storage.ListOptions{Match: match, Hints: hints})
	if err != nil {
		return nil, err
	}
	pods := make([]*corev1.Pod, len(page.Items))
	for i, obj := range page.Items {
		pods[i] = obj.(*corev1.Pod)
	}
	return pods, nil
}
