package persistentvolume

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

// volumePlan is what to do about one volume.
type volumePlan struct {
	// phase and message are the status to record ("" leaves the phase).
	phase   corev1.PersistentVolumePhase
	message string
	// unbind: the claim went to another volume; free this one.
	unbind bool
	// delete: reclaim policy Delete on a volume provisioned here; the
	// object is deleted and the node removes the backing file.
	delete bool
	// syncClaim: the claim side of the binding is unfinished.
	syncClaim bool
	event     *event
}

// decideVolume is kube's syncVolume for one volume. claim is the claim its
// claimRef names, nil when there is none of that name.
func decideVolume(pv *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) volumePlan {
	ref := pv.Spec.ClaimRef
	switch {
	case ref == nil || ref.UID == "" && claim == nil:
		return volumePlan{phase: corev1.VolumeAvailable}
	case ref.UID == "":
		return volumePlan{phase: corev1.VolumeAvailable, syncClaim: claim.Spec.VolumeName == ""}
	case claim == nil || claim.UID != ref.UID:
		return reclaim(pv)
	case claim.Spec.VolumeName == "":
		return volumePlan{syncClaim: true}
	case claim.Spec.VolumeName == pv.Name:
		return volumePlan{phase: corev1.VolumeBound}
	}
	return volumePlan{phase: corev1.VolumeAvailable, unbind: true}
}

// reclaim: the claim is gone. The volume is Released and its reclaim
// policy applies: Retain keeps it; Delete removes a volume provisioned
// here; anything else has no plugin here and fails, as in kube.
func reclaim(pv *corev1.PersistentVolume) volumePlan {
	if pv.Status.Phase == corev1.VolumeFailed {
		return volumePlan{}
	}
	plan := volumePlan{phase: corev1.VolumeReleased}
	switch pv.Spec.PersistentVolumeReclaimPolicy {
	case corev1.PersistentVolumeReclaimRetain:
	case corev1.PersistentVolumeReclaimDelete:
		if pv.Annotations[AnnProvisionedBy] == localvolume.Driver {
			plan.delete = pv.DeletionTimestamp == nil
			return plan
		}
		msg := fmt.Sprintf("Error getting deleter volume plugin for volume %q: no deletable volume plugin matched", pv.Name)
		return volumePlan{phase: corev1.VolumeFailed, message: msg, event: warning(ReasonVolumeFailedDelete, msg)}
	default:
		msg := "No recycler plugin found for the volume!"
		return volumePlan{phase: corev1.VolumeFailed, message: msg, event: warning(ReasonVolumeFailedRecycle, msg)}
	}
	return plan
}
