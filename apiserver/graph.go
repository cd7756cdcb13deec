package apiserver

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// podGraph answers the Node authorizer's questions from storage: which node
// a pod is bound to, and whether a node's pods use a secret, configmap or
// claim. It lists the node's pods on each question; nodes ask rarely (when
// a pod starts), so nothing is cached.
type podGraph struct{ s *Server }

func (g *podGraph) pods() *storage.Store {
	res, _ := g.s.reg.lookup("", "v1", "pods")
	return g.s.store(res)
}

func (g *podGraph) PodNode(ctx context.Context, namespace, name string) (string, bool, error) {
	obj, err := g.pods().Get(ctx, namespace, name)
	if storage.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return obj.(*corev1.Pod).Spec.NodeName, true, nil
}

func (g *podGraph) Referenced(ctx context.Context, node, resource, namespace, name string) (bool, error) {
	page, err := g.pods().List(ctx, namespace, storage.ListOptions{})
	if err != nil {
		return false, err
	}
	for _, obj := range page.Items {
		pod := obj.(*corev1.Pod)
		if pod.Spec.NodeName == node && podReferences(pod, resource, name) {
			return true, nil
		}
	}
	return false, nil
}

// podReferences reports whether the pod uses the named secret, configmap or
// persistent volume claim, in volumes, env, envFrom or image pull secrets.
func podReferences(pod *corev1.Pod, resource, name string) bool {
	for _, ref := range podRefs(pod)[resource] {
		if ref == name {
			return true
		}
	}
	return false
}

func podRefs(pod *corev1.Pod) map[string][]string {
	refs := map[string][]string{}
	add := func(res, name string) {
		if name != "" {
			refs[res] = append(refs[res], name)
		}
	}
	for _, s := range pod.Spec.ImagePullSecrets {
		add("secrets", s.Name)
	}
	for _, v := range pod.Spec.Volumes {
		addVolumeRefs(v, add)
	}
	forEachContainer(pod, func(c *corev1.Container) {
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				add("secrets", e.SecretRef.Name)
			}
			if e.ConfigMapRef != nil {
				add("configmaps", e.ConfigMapRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				add("secrets", e.ValueFrom.SecretKeyRef.Name)
			}
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				add("configmaps", e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
	})
	return refs
}

func addVolumeRefs(v corev1.Volume, add func(res, name string)) {
	switch {
	case v.Secret != nil:
		add("secrets", v.Secret.SecretName)
	case v.ConfigMap != nil:
		add("configmaps", v.ConfigMap.Name)
	case v.PersistentVolumeClaim != nil:
		add("persistentvolumeclaims", v.PersistentVolumeClaim.ClaimName)
	case v.Projected != nil:
		for _, src := range v.Projected.Sources {
			if src.Secret != nil {
				add("secrets", src.Secret.Name)
			}
			if src.ConfigMap != nil {
				add("configmaps", src.ConfigMap.Name)
			}
		}
	}
}

func forEachContainer(pod *corev1.Pod, fn func(c *corev1.Container)) {
	for i := range pod.Spec.InitContainers {
		fn(&pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		fn(&pod.Spec.Containers[i])
	}
}
