package scheduler

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nodeagent/nodeagent/api/podrefs"
	"github.com/nodeagent/nodeagent/controllers/persistentvolume"
)

// The reasons of kube-scheduler's VolumeBinding plugin.
const (
	reasonUnboundImmediate = "pod has unbound immediate PersistentVolumeClaims"
	reasonVolumeNode       = "node(s) had volume node affinity conflict"
	reasonBindConflict     = "node(s) didn't find available persistent volumes to bind"
	reasonPVNotExist       = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
)

// noProvisioner is the provisioner of classes that provision nothing.
const noProvisioner = "kubernetes.io/no-provisioner"

// VolumeState is what scheduling needs to know of the claims a pod uses,
// read from the caches.
type VolumeState struct {
	Claims  map[string]*corev1.PersistentVolumeClaim // by name, in the pod's namespace
	Volumes []*corev1.PersistentVolume
	Classes map[string]*storagev1.StorageClass
}

// podVolumes is the verdict about a pod's claims before any node is tried.
type podVolumes struct {
	// preFilter, when set, makes every node fail (kube's PreFilter).
	preFilter string
	// waiting: a claim is being bound or provisioned for a node already
	// chosen; the pod waits for it.
	waiting bool
	// bound are the volumes of the bound claims (nil: the volume is missing).
	bound []*corev1.PersistentVolume
	// unbound are the WaitForFirstConsumer claims still to bind on the
	// chosen node.
	unbound []*corev1.PersistentVolumeClaim
	state   VolumeState
}

// classifyVolumes is kube's VolumeBinding PreFilter: every claim must
// exist, not be deleting, and be the pod's own if ephemeral; bound claims
// bring their volume; unbound ones must wait for their first consumer.
func classifyVolumes(pod *corev1.Pod, st VolumeState) podVolumes {
	pv := podVolumes{state: st}
	for _, name := range podrefs.Of(pod).Claims {
		claim := st.Claims[name]
		if msg := claimProblem(pod, name, claim); msg != "" {
			return podVolumes{preFilter: msg}
		}
		switch {
		case claim.Spec.VolumeName != "" && claim.Annotations[persistentvolume.AnnBindCompleted] == "yes":
			pv.bound = append(pv.bound, findVolume(st.Volumes, claim.Spec.VolumeName))
		case claim.Spec.VolumeName != "" || claim.Annotations[persistentvolume.AnnSelectedNode] != "":
			pv.waiting = true
		case !delayBinding(claim, st.Classes):
			return podVolumes{preFilter: reasonUnboundImmediate}
		default:
			pv.unbound = append(pv.unbound, claim)
		}
	}
	return pv
}

// claimProblem is why a claim makes the pod unschedulable anywhere.
func claimProblem(pod *corev1.Pod, name string, claim *corev1.PersistentVolumeClaim) string {
	switch {
	case claim == nil:
		return fmt.Sprintf("persistentvolumeclaim %q not found", name)
	case claim.DeletionTimestamp != nil:
		return fmt.Sprintf("persistentvolumeclaim %q is being deleted", name)
	case ephemeralName(pod, name) && !metav1.IsControlledBy(claim, pod):
		return fmt.Sprintf("PVC %s/%s was not created for pod %s/%s (pod is not owner)", claim.Namespace, name, pod.Namespace, pod.Name)
	}
	return ""
}

func ephemeralName(pod *corev1.Pod, claim string) bool {
	for _, v := range pod.Spec.Volumes {
		if v.Ephemeral != nil && pod.Name+"-"+v.Name == claim {
			return true
		}
	}
	return false
}

func delayBinding(claim *corev1.PersistentVolumeClaim, classes map[string]*storagev1.StorageClass) bool {
	class := classes[persistentvolume.ClaimClass(claim)]
	return class != nil && class.VolumeBindingMode != nil && *class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
}

func findVolume(volumes []*corev1.PersistentVolume, name string) *corev1.PersistentVolume {
	for _, v := range volumes {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// check is the VolumeBinding Filter for one node: the bound volumes'
// node affinity admits it, and each unbound claim finds a free volume
// there or can be provisioned there.
func (pv podVolumes) check(_ *corev1.Pod, node *corev1.Node, _ []*corev1.Pod) []string {
	for _, v := range pv.bound {
		if v == nil {
			return []string{reasonPVNotExist}
		}
		if !persistentvolume.NodeAffinityMatches(v, node) {
			return []string{reasonVolumeNode}
		}
	}
	if _, ok := pv.placeUnbound(node); !ok {
		return []string{reasonBindConflict}
	}
	return nil
}

// placement says, for each unbound claim, the free volume it takes on the
// node (nil: it is provisioned there).
type placement map[*corev1.PersistentVolumeClaim]*corev1.PersistentVolume

// placeUnbound finds a place on node for every unbound claim; no two
// claims take the same volume.
func (pv podVolumes) placeUnbound(node *corev1.Node) (placement, bool) {
	out := placement{}
	taken := map[string]bool{}
	for _, claim := range pv.unbound {
		free := make([]*corev1.PersistentVolume, 0, len(pv.state.Volumes))
		for _, v := range pv.state.Volumes {
			if !taken[v.Name] {
				free = append(free, v)
			}
		}
		if v := persistentvolume.FindMatchingVolume(claim, free, node, true); v != nil {
			out[claim], taken[v.Name] = v, true
			continue
		}
		if !provisionable(pv.state.Classes[persistentvolume.ClaimClass(claim)], node) {
			return nil, false
		}
		out[claim] = nil
	}
	return out, true
}

// provisionable: the class has a provisioner, and its allowed topologies,
// if any, admit the node.
func provisionable(class *storagev1.StorageClass, node *corev1.Node) bool {
	if class == nil || class.Provisioner == "" || class.Provisioner == noProvisioner {
		return false
	}
	if len(class.AllowedTopologies) == 0 {
		return true
	}
	for _, term := range class.AllowedTopologies {
		if topologyMatches(term, labels.Set(node.Labels)) {
			return true
		}
	}
	return false
}

func topologyMatches(term corev1.TopologySelectorTerm, set labels.Set) bool {
	for _, e := range term.MatchLabelExpressions {
		v, ok := set[e.Key]
		if !ok || !contains(e.Values, v) {
			return false
		}
	}
	return true
}

func contains(values []string, v string) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}
	return false
}
