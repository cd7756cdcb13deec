package persistentvolume

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Finalizers of kube's StorageObjectInUseProtection: admission puts them on
// every new claim and volume; they go once the object is not in use.
const (
	ClaimProtectionFinalizer  = "kubernetes.io/pvc-protection"
	VolumeProtectionFinalizer = "kubernetes.io/pv-protection"
)

// releaseClaimProtection lets a claim being deleted go once no pod that
// has not finished uses it. The cache answers first; a claim it calls
// unused is checked against the server's pods, as kube does, since a pod
// created a moment ago may not be in the cache.
// It reports whether it wrote the claim.
func (c *Controller) releaseClaimProtection(ctx context.Context, claim *corev1.PersistentVolumeClaim) (bool, error) {
	if !slices.Contains(claim.Finalizers, ClaimProtectionFinalizer) {
		return false, nil
	}
	cached, _ := c.pods.Pods(claim.Namespace).List(labels.Everything())
	if podsUse(cached, claim.Name) {
		return false, nil
	}
	live, err := c.client.CoreV1().Pods(claim.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, wrap(err, "list pods of namespace %s", claim.Namespace)
	}
	pods := make([]*corev1.Pod, len(live.Items))
	for i := range live.Items {
		pods[i] = &live.Items[i]
	}
	if podsUse(pods, claim.Name) {
		return false, nil
	}
	out := claim.DeepCopy()
	out.Finalizers = slices.DeleteFunc(out.Finalizers, func(f string) bool { return f == ClaimProtectionFinalizer })
	_, err = c.client.CoreV1().PersistentVolumeClaims(out.Namespace).Update(ctx, out, metav1.UpdateOptions{})
	return err == nil, wrap(err, "remove %s from claim %s/%s", ClaimProtectionFinalizer, claim.Namespace, claim.Name)
}

// podsUse: one of the pods, not finished, names the claim.
func podsUse(pods []*corev1.Pod, claim string) bool {
	for _, p := range pods {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && usesClaim(p, claim) {
			return true
		}
	}
	return false
}

// releaseVolumeProtection lets a volume being deleted go once it is not
// Bound to a claim. It reports whether it wrote the volume.
func (c *Controller) releaseVolumeProtection(ctx context.Context, pv *corev1.PersistentVolume) (bool, error) {
	if !slices.Contains(pv.Finalizers, VolumeProtectionFinalizer) || pv.Status.Phase == corev1.VolumeBound {
		return false, nil
	}
	out := pv.DeepCopy()
	out.Finalizers = slices.DeleteFunc(out.Finalizers, func(f string) bool { return f == VolumeProtectionFinalizer })
	_, err := c.client.CoreV1().PersistentVolumes().Update(ctx, out, metav1.UpdateOptions{})
	return err == nil, wrap(err, "remove %s from volume %s", VolumeProtectionFinalizer, pv.Name)
}
