package persistentvolume

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

// Annotations kube's volume controllers and scheduler write.
const (
	AnnBindCompleted      = "pv.kubernetes.io/bind-completed"
	AnnBoundByController  = "pv.kubernetes.io/bound-by-controller"
	AnnSelectedNode       = "volume.kubernetes.io/selected-node"
	AnnStorageProvisioner = "volume.kubernetes.io/storage-provisioner"
	AnnBetaProvisioner    = "volume.beta.kubernetes.io/storage-provisioner"
	AnnProvisionedBy      = "pv.kubernetes.io/provisioned-by"
)

// Event reasons, as kube's controllers give them.
const (
	ReasonFailedBinding         = "FailedBinding"
	ReasonWaitForFirstConsumer  = "WaitForFirstConsumer"
	ReasonWaitForPodScheduled   = "WaitForPodScheduled"
	ReasonExternalProvisioning  = "ExternalProvisioning"
	ReasonProvisioning          = "Provisioning"
	ReasonProvisioningSucceeded = "ProvisioningSucceeded"
	ReasonProvisioningFailed    = "ProvisioningFailed"
	ReasonClaimLost             = "ClaimLost"
	ReasonClaimMisbound         = "ClaimMisbound"
	ReasonVolumeFailedDelete    = "VolumeFailedDelete"
	ReasonVolumeFailedRecycle   = "VolumeFailedRecycle"
	ReasonVolumeDelete          = "VolumeDelete"
)

// event is one event to record on the object being synced.
type event struct {
	warning bool
	reason  string
	message string
}

func normal(reason, msg string) *event  { return &event{reason: reason, message: msg} }
func warning(reason, msg string) *event { return &event{warning: true, reason: reason, message: msg} }

// claimInput is what the decision about one claim reads from the caches.
type claimInput struct {
	claim   *corev1.PersistentVolumeClaim
	volumes []*corev1.PersistentVolume
	// class is the claim's StorageClass, nil when it names none or the
	// class does not exist.
	class *storagev1.StorageClass
	// waitingPods are the unscheduled pods (namespace/name... by name)
	// that use the claim.
	waitingPods []string
	// nodeExists reports whether a node of this name exists.
	nodeExists func(name string) bool
}

// claimPlan is what to do about one claim. At most one of bind and
// provision is set; phase and event apply otherwise.
type claimPlan struct {
	// bind: bind the claim and this volume, both ways, and mark both Bound.
	bind *corev1.PersistentVolume
	// provision: create this volume, pre-bound to the claim.
	provision *corev1.PersistentVolume
	// annotate: annotations to set on the claim.
	annotate map[string]string
	// unselectNode: remove the selected-node annotation (the scheduler
	// picks again).
	unselectNode bool
	// phase is the claim phase to record ("" leaves it).
	phase corev1.PersistentVolumeClaimPhase
	event *event
}

// decideClaim is kube's syncClaim for one claim, as a plan.
func decideClaim(in claimInput) claimPlan {
	if in.claim.Spec.VolumeName == "" {
		return decideUnbound(in)
	}
	return decideBound(in)
}

// decideUnbound: bind to the best matching volume; else wait for the
// first consumer, provision, or say that nothing matches.
func decideUnbound(in claimInput) claimPlan {
	c := in.claim
	delay := in.class != nil && in.class.VolumeBindingMode != nil && *in.class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
	if pv := FindMatchingVolume(c, in.volumes, nil, delay); pv != nil {
		return claimPlan{bind: pv}
	}
	plan := claimPlan{phase: corev1.ClaimPending}
	switch {
	case delay && c.Annotations[AnnSelectedNode] == "":
		plan.event = waitEvent(in.waitingPods)
	case ClaimClass(c) != "":
		return provisionPlan(in, plan)
	default:
		plan.event = normal(ReasonFailedBinding, "no persistent volumes available for this claim and no storage class is set")
	}
	return plan
}

// waitEvent is kube's event for a WaitForFirstConsumer claim no pod has
// been scheduled with yet.
func waitEvent(pods []string) *event {
	switch len(pods) {
	case 0:
		return normal(ReasonWaitForFirstConsumer, "waiting for first consumer to be created before binding")
	case 1:
		return normal(ReasonWaitForPodScheduled, fmt.Sprintf("waiting for pod %s to be scheduled", pods[0]))
	}
	return normal(ReasonWaitForPodScheduled, fmt.Sprintf("waiting for pods %s to be scheduled", strings.Join(pods, ",")))
}

// provisionPlan: volumes of this driver are made here; another
// provisioner's claims are annotated for it, as kube's controller does.
func provisionPlan(in claimInput, plan claimPlan) claimPlan {
	c, class := in.claim, in.class
	if class == nil {
		plan.event = warning(ReasonProvisioningFailed, fmt.Sprintf("storageclass.storage.k8s.io %q not found", ClaimClass(c)))
		return plan
	}
	plan.annotate = map[string]string{AnnStorageProvisioner: class.Provisioner, AnnBetaProvisioner: class.Provisioner}
	if class.Provisioner != localvolume.Driver {
		plan.event = normal(ReasonExternalProvisioning, fmt.Sprintf("Waiting for a volume to be created either by the external provisioner '%s' "+
			"or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.", class.Provisioner))
		return plan
	}
	if c.DeletionTimestamp != nil {
		return plan
	}
	node, err := provisionNode(c, class, in.nodeExists)
	if err != nil {
		plan.event = warning(ReasonProvisioningFailed, err.Error())
		plan.unselectNode = c.Annotations[AnnSelectedNode] != ""
		return plan
	}
	pv, err := NewVolume(c, class, node)
	if err != nil {
		plan.event = warning(ReasonProvisioningFailed, err.Error())
		return plan
	}
	plan.provision = pv
	return plan
}

// decideBound: the claim names a volume; finish the binding, or say why
// it cannot be.
func decideBound(in claimInput) claimPlan {
	c := in.claim
	i := slices.IndexFunc(in.volumes, func(pv *corev1.PersistentVolume) bool { return pv.Name == c.Spec.VolumeName })
	if i < 0 {
		if c.Status.Phase == corev1.ClaimBound || c.Status.Phase == corev1.ClaimLost {
			return claimPlan{phase: corev1.ClaimLost, event: warning(ReasonClaimLost, "Bound claim has lost its PersistentVolume. Data on the volume is lost!")}
		}
		return claimPlan{phase: corev1.ClaimPending}
	}
	pv := in.volumes[i]
	switch {
	case pv.Spec.ClaimRef == nil || BoundToClaim(pv, c):
		return claimPlan{bind: pv}
	case c.Annotations[AnnBoundByController] == "yes":
		return claimPlan{phase: corev1.ClaimLost, event: warning(ReasonClaimMisbound, "Two claims are bound to the same volume, this one is bound incorrectly")}
	}
	return claimPlan{phase: corev1.ClaimPending, event: normal(ReasonFailedBinding, fmt.Sprintf("volume %q already bound to a different claim.", pv.Name))}
}
