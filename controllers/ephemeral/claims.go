package ephemeral

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClaimName is the claim of a pod's generic ephemeral volume:
// <pod>-<volume>.
func ClaimName(pod *corev1.Pod, vol *corev1.Volume) string { return pod.Name + "-" + vol.Name }

// desiredClaims are the claims the pod's ephemeral volumes need: each from
// its template, with the template's labels and annotations, controlled by
// the pod (so it goes with the pod). The claims share nothing with the
// pod, which is the server's cached object (apiserver.SharedPods).
func desiredClaims(pod *corev1.Pod) []*corev1.PersistentVolumeClaim {
	var out []*corev1.PersistentVolumeClaim
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if v.Ephemeral == nil || v.Ephemeral.VolumeClaimTemplate == nil {
			continue
		}
		tmpl := v.Ephemeral.VolumeClaimTemplate
		t := true
		out = append(out, &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: ClaimName(pod, v), Namespace: pod.Namespace,
				Labels: maps.Clone(tmpl.Labels), Annotations: maps.Clone(tmpl.Annotations),
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID,
					Controller: &t, BlockOwnerDeletion: &t}}},
			Spec: *tmpl.Spec.DeepCopy(),
		})
	}
	return out
}

// podOwner is the pod that controls the claim, if a pod does.
func podOwner(c *corev1.PersistentVolumeClaim) (metav1.OwnerReference, bool) {
	ref := metav1.GetControllerOf(c)
	if ref == nil || ref.APIVersion != "v1" || ref.Kind != "Pod" {
		return metav1.OwnerReference{}, false
	}
	return *ref, true
}
