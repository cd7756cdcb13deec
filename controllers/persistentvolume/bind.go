package persistentvolume

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The binding, as kube writes it, in four idempotent steps: the volume's
// claimRef, the volume's phase, the claim's volumeName, the claim's status.
// Each function returns the object as the step leaves it and whether that
// differs from what it was given (nothing to write otherwise).

// boundVolume points the volume's claimRef at the claim (with its UID);
// when the controller sets it, the volume says bound-by-controller.
func boundVolume(pv *corev1.PersistentVolume, c *corev1.PersistentVolumeClaim) (*corev1.PersistentVolume, bool) {
	ref := pv.Spec.ClaimRef
	if ref != nil && ref.UID == c.UID && ref.Namespace == c.Namespace && ref.Name == c.Name {
		return pv, false
	}
	out := pv.DeepCopy()
	if ref == nil {
		setAnnotation(&out.Annotations, AnnBoundByController, "yes")
	}
	out.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: c.Namespace,
		Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion}
	return out, true
}

// boundClaim sets the claim's volumeName (bound-by-controller when the
// controller chose the volume) and bind-completed.
func boundClaim(c *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) (*corev1.PersistentVolumeClaim, bool) {
	out := c.DeepCopy()
	if out.Spec.VolumeName != pv.Name {
		out.Spec.VolumeName = pv.Name
		setAnnotation(&out.Annotations, AnnBoundByController, "yes")
	}
	setAnnotation(&out.Annotations, AnnBindCompleted, "yes")
	return out, !equality.Semantic.DeepEqual(out, c)
}

// claimBoundStatus: Bound, with the volume's capacity and access modes.
func claimBoundStatus(c *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) (*corev1.PersistentVolumeClaim, bool) {
	out := c.DeepCopy()
	out.Status.Phase = corev1.ClaimBound
	out.Status.Capacity = pv.Spec.Capacity.DeepCopy()
	out.Status.AccessModes = append([]corev1.PersistentVolumeAccessMode(nil), pv.Spec.AccessModes...)
	return out, !equality.Semantic.DeepEqual(out.Status, c.Status)
}

// unboundVolume frees a volume whose claim went elsewhere: a claimRef the
// controller set goes, one an admin set keeps its name without the UID.
func unboundVolume(pv *corev1.PersistentVolume) *corev1.PersistentVolume {
	out := pv.DeepCopy()
	if out.Annotations[AnnBoundByController] == "yes" {
		out.Spec.ClaimRef = nil
		delete(out.Annotations, AnnBoundByController)
	} else if out.Spec.ClaimRef != nil {
		out.Spec.ClaimRef.UID = ""
		out.Spec.ClaimRef.ResourceVersion = ""
	}
	return out
}

// withVolumePhase returns the volume with the phase and message, and
// whether they changed; a new phase records its transition time.
func withVolumePhase(pv *corev1.PersistentVolume, phase corev1.PersistentVolumePhase, msg string, now time.Time) (*corev1.PersistentVolume, bool) {
	if phase == "" || (pv.Status.Phase == phase && pv.Status.Message == msg) {
		return pv, false
	}
	out := pv.DeepCopy()
	if out.Status.Phase != phase {
		t := metav1.NewTime(now)
		out.Status.LastPhaseTransitionTime = &t
	}
	out.Status.Phase, out.Status.Message = phase, msg
	return out, true
}

func setAnnotation(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}
