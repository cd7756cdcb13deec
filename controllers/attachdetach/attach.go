package attachdetach

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

// attach is the attacher of local.nodeagent.io, the part a CSI driver's
// external attacher plays: a volume that lives on one node is "attached"
// to it as it is, so an attachment to that node is marked attached (its
// pods hear SuccessfulAttachVolume) and one to any other node fails.
func attach(in volumeInput, status []*storagev1.VolumeAttachment, events []podEvent) ([]*storagev1.VolumeAttachment, []podEvent) {
	home, ok := localvolume.Node(in.pv)
	for _, va := range in.attachments {
		if va.Spec.Attacher != localvolume.Driver || va.DeletionTimestamp != nil || va.Status.Attached {
			continue
		}
		if ok && va.Spec.NodeName == home {
			out := va.DeepCopy()
			out.Status = storagev1.VolumeAttachmentStatus{Attached: true}
			status = append(status, out)
			for _, p := range in.podsByNode[home] {
				events = append(events, podEvent{pod: p, reason: ReasonSuccessfulAttachVolume,
					message: fmt.Sprintf("AttachVolume.Attach succeeded for volume %q", in.pv.Name)})
			}
			continue
		}
		if out, changed := withAttachError(va, attachErrorMessage(in.pv, home, ok, va.Spec.NodeName), in); changed {
			status = append(status, out)
		}
	}
	return status, events
}

func attachErrorMessage(pv *corev1.PersistentVolume, home string, ok bool, node string) string {
	if !ok {
		return fmt.Sprintf("volume %q names no single node in its node affinity (kubernetes.io/hostname In [node])", pv.Name)
	}
	return fmt.Sprintf("volume %q lives on node %q and cannot be attached to node %q", pv.Name, home, node)
}

// withAttachError sets status.attachError unless it already says msg.
func withAttachError(va *storagev1.VolumeAttachment, msg string, in volumeInput) (*storagev1.VolumeAttachment, bool) {
	if e := va.Status.AttachError; e != nil && e.Message == msg {
		return va, false
	}
	out := va.DeepCopy()
	out.Status.AttachError = &storagev1.VolumeError{Time: in.now, Message: msg}
	return out, true
}

// podActive: a pod scheduled to a node whose volumes are in use there:
// not finished, and not deleted with nothing running any more.
func podActive(p *corev1.Pod) bool {
	if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return false
	}
	return p.DeletionTimestamp == nil || anyRunning(p)
}

// anyRunning: a container of a pod being deleted may still use its
// volumes (kube's DetermineVolumeAction keeps them until none runs).
func anyRunning(p *corev1.Pod) bool {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for _, s := range list {
			if s.State.Terminated == nil && s.State.Waiting == nil {
				return true
			}
		}
	}
	return false
}
