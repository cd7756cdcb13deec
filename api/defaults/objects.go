package defaults

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Namespace labels ns with kubernetes.io/metadata.name and starts its phase
// at Active. NamespaceCreate adds the "kubernetes" finalizer as well.
func Namespace(ns *corev1.Namespace) {
	if ns.Name != "" {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
	}
	if ns.Status.Phase == "" {
		ns.Status.Phase = corev1.NamespaceActive
	}
}

// NamespaceCreate applies Namespace and adds the "kubernetes" finalizer. Call
// it on create only: the namespace controller removes that finalizer when it
// has emptied a terminating namespace, and it must not come back.
func NamespaceCreate(ns *corev1.Namespace) {
	Namespace(ns)
	for _, f := range ns.Spec.Finalizers {
		if f == corev1.FinalizerKubernetes {
			return
		}
	}
	ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
}

// Secret sets type Opaque when unset and merges stringData into data (the
// stringData values win), as kube-apiserver does when it decodes a Secret.
func Secret(s *corev1.Secret) {
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	if len(s.StringData) == 0 {
		s.StringData = nil
		return
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

// Node sets status.allocatable to status.capacity when unset.
func Node(n *corev1.Node) {
	if n.Status.Allocatable == nil && n.Status.Capacity != nil {
		n.Status.Allocatable = n.Status.Capacity.DeepCopy()
	}
}

// PersistentVolume sets reclaim policy Retain, volume mode Filesystem,
// hostPath type "" and phase Pending when unset.
func PersistentVolume(pv *corev1.PersistentVolume) {
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		pv.Spec.VolumeMode = ptrTo(corev1.PersistentVolumeFilesystem)
	}
	hostPath(pv.Spec.HostPath)
	if pv.Status.Phase == "" {
		pv.Status.Phase = corev1.VolumePending
	}
}

// PersistentVolumeClaim sets volume mode Filesystem and phase Pending when
// unset.
func PersistentVolumeClaim(pvc *corev1.PersistentVolumeClaim) {
	claimSpec(&pvc.Spec)
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = corev1.ClaimPending
	}
}

func claimSpec(s *corev1.PersistentVolumeClaimSpec) {
	if s.VolumeMode == nil {
		s.VolumeMode = ptrTo(corev1.PersistentVolumeFilesystem)
	}
}

// EndpointSlice sets each port's protocol to TCP and its name to "" when
// unset.
func EndpointSlice(es *discoveryv1.EndpointSlice) {
	for i := range es.Ports {
		p := &es.Ports[i]
		if p.Protocol == nil {
			p.Protocol = ptrTo(corev1.ProtocolTCP)
		}
		if p.Name == nil {
			p.Name = ptrTo("")
		}
	}
}

// Event defaults nothing: Kubernetes has no defaults for core/v1 Events.
func Event(*corev1.Event) {}

// ServiceAccount defaults nothing: Kubernetes has no defaults for it.
func ServiceAccount(*corev1.ServiceAccount) {}

// ConfigMap defaults nothing: Kubernetes has no defaults for it.
func ConfigMap(*corev1.ConfigMap) {}

// Lease defaults nothing: Kubernetes has no defaults for it.
func Lease(*coordinationv1.Lease) {}

// Endpoints sets each subset port's protocol to TCP when unset.
func Endpoints(ep *corev1.Endpoints) {
	for i := range ep.Subsets {
		for j := range ep.Subsets[i].Ports {
			if p := &ep.Subsets[i].Ports[j]; p.Protocol == "" {
				p.Protocol = corev1.ProtocolTCP
			}
		}
	}
}
