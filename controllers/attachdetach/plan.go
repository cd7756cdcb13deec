package attachdetach

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

// Event reasons, as kube's attach/detach controller gives them.
const (
	ReasonFailedAttachVolume     = "FailedAttachVolume"
	ReasonSuccessfulAttachVolume = "SuccessfulAttachVolume"
)

// volumeInput is what the plan for one volume reads.
type volumeInput struct {
	// pv is the volume; nil when it is gone (its attachments are detached).
	pv *corev1.PersistentVolume
	// podsByNode are the pods, scheduled and not finished, that use the
	// volume, by node.
	podsByNode map[string][]*corev1.Pod
	// attachments are the volume's VolumeAttachments.
	attachments []*storagev1.VolumeAttachment
	// attachRequired: the volume's CSI driver wants VolumeAttachments.
	attachRequired bool
	// now stamps attach errors.
	now metav1.Time
}

// podEvent is an event on a pod.
type podEvent struct {
	pod             *corev1.Pod
	warning         bool
	reason, message string
}

// volumePlan is what to do for one volume: attachments to create, to
// delete (detach), to mark attached or failed (the local attacher), and
// events for pods.
type volumePlan struct {
	create []*storagev1.VolumeAttachment
	delete []*storagev1.VolumeAttachment
	status []*storagev1.VolumeAttachment
	events []podEvent
}

// planVolume is the attach/detach decision for one volume: every node with
// pods that use it gets an attachment, unless the volume may not be on two
// nodes (no ReadWriteMany or ReadOnlyMany) and is attached, or about to be,
// elsewhere: then those pods get kube's Multi-Attach error. Attachments of
// nodes without such pods are deleted (only those named as this controller
// names them). Attachments of the local driver are attached when the
// volume lives on their node.
func planVolume(in volumeInput) volumePlan {
	var plan volumePlan
	if in.pv == nil || in.pv.Spec.CSI == nil || !in.attachRequired {
		plan.delete = ownDetachable(in, map[string]bool{})
		return plan
	}
	src := in.pv.Spec.CSI
	attached := attachedNodes(in.attachments)
	wanted := map[string]bool{}
	for _, node := range nodeOrder(in.podsByNode, attached) {
		if !attached[node] && !multiAttachAllowed(in.pv) && len(others(attached, node)) > 0 {
			plan.events = append(plan.events, multiAttachErrors(in.pv.Name, in.podsByNode, node, others(attached, node))...)
			continue
		}
		wanted[node] = true
		if !attached[node] {
			plan.create = append(plan.create, newAttachment(in.pv.Name, src, node))
			attached[node] = true
		}
	}
	plan.delete = ownDetachable(in, wanted)
	plan.status, plan.events = attach(in, plan.status, plan.events)
	return plan
}

// attachedNodes are the nodes the volume has an attachment to (attached
// or not yet, deleting or not: until it is gone the volume may be there).
func attachedNodes(vas []*storagev1.VolumeAttachment) map[string]bool {
	out := map[string]bool{}
	for _, va := range vas {
		out[va.Spec.NodeName] = true
	}
	return out
}

func others(attached map[string]bool, node string) []string {
	var out []string
	for n := range attached {
		if n != node {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// nodeOrder: nodes that have the volume first, then by their oldest pod,
// then by name; the first node gets a volume only one node may have.
func nodeOrder(podsByNode map[string][]*corev1.Pod, attached map[string]bool) []string {
	nodes := make([]string, 0, len(podsByNode))
	for n := range podsByNode {
		nodes = append(nodes, n)
	}
	oldest := func(n string) metav1.Time {
		t := podsByNode[n][0].CreationTimestamp
		for _, p := range podsByNode[n] {
			if p.CreationTimestamp.Before(&t) {
				t = p.CreationTimestamp
			}
		}
		return t
	}
	sort.Slice(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		if attached[a] != attached[b] {
			return attached[a]
		}
		ta, tb := oldest(a), oldest(b)
		if !ta.Equal(&tb) {
			return ta.Before(&tb)
		}
		return a < b
	})
	return nodes
}

// multiAttachAllowed is kube's IsMultiAttachAllowed: a volume with no
// access modes, or ReadWriteMany or ReadOnlyMany among them.
func multiAttachAllowed(pv *corev1.PersistentVolume) bool {
	modes := pv.Spec.AccessModes
	return len(modes) == 0 || slices.Contains(modes, corev1.ReadWriteMany) || slices.Contains(modes, corev1.ReadOnlyMany)
}

// multiAttachErrors are kube's FailedAttachVolume events for the pods on
// node: each names the pods of its own namespace on the other nodes and
// counts the rest.
func multiAttachErrors(pvName string, podsByNode map[string][]*corev1.Pod, node string, elsewhere []string) []podEvent {
	var blocking []*corev1.Pod
	for _, n := range elsewhere {
		blocking = append(blocking, podsByNode[n]...)
	}
	var out []podEvent
	for _, p := range podsByNode[node] {
		msg := fmt.Sprintf("Multi-Attach error for volume %q %s", pvName, usedBy(p.Namespace, blocking))
		out = append(out, podEvent{pod: p, warning: true, reason: ReasonFailedAttachVolume, message: msg})
	}
	return out
}

func usedBy(namespace string, pods []*corev1.Pod) string {
	if len(pods) == 0 {
		return "Volume is already exclusively attached to one node and can't be attached to another"
	}
	var local []string
	other := 0
	for _, p := range pods {
		if p.Namespace == namespace {
			local = append(local, p.Name)
		} else {
			other++
		}
	}
	switch {
	case len(local) == 0:
		return fmt.Sprintf("Volume is already used by %d pod(s) in different namespaces", other)
	case other > 0:
		return fmt.Sprintf("Volume is already used by pod(s) %s and %d pod(s) in different namespaces", strings.Join(local, ", "), other)
	}
	return "Volume is already used by pod(s) " + strings.Join(local, ", ")
}

func newAttachment(pvName string, src *corev1.CSIPersistentVolumeSource, node string) *storagev1.VolumeAttachment {
	return &storagev1.VolumeAttachment{
		ObjectMeta: metav1.ObjectMeta{Name: localvolume.AttachmentName(src.VolumeHandle, src.Driver, node)},
		Spec: storagev1.VolumeAttachmentSpec{Attacher: src.Driver, NodeName: node,
			Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: &pvName}},
	}
}

// ownDetachable are the attachments to delete: those not wanted, not
// already being deleted, named as this controller names them (an
// attachment someone else made is left alone).
func ownDetachable(in volumeInput, wanted map[string]bool) []*storagev1.VolumeAttachment {
	var out []*storagev1.VolumeAttachment
	for _, va := range in.attachments {
		if wanted[va.Spec.NodeName] || va.DeletionTimestamp != nil || !ownName(in.pv, va) {
			continue
		}
		out = append(out, va)
	}
	return out
}

// ownName: the attachment's name is the one this controller gives it. For
// a volume that is gone, the handle is unknown: kube's provisioned
// volumes use their name.
func ownName(pv *corev1.PersistentVolume, va *storagev1.VolumeAttachment) bool {
	if va.Spec.Source.PersistentVolumeName == nil {
		return false
	}
	handle := *va.Spec.Source.PersistentVolumeName
	if pv != nil && pv.Spec.CSI != nil {
		handle = pv.Spec.CSI.VolumeHandle
	}
	return va.Name == localvolume.AttachmentName(handle, va.Spec.Attacher, va.Spec.NodeName)
}
