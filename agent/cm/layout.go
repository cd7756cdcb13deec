package cm

import (
	"path"

	corev1 "k8s.io/api/core/v1"
)

// Layout names the node's cgroups, as kubelet's cgroupfs driver does
// below a root of the node's own (so that lab nodes on one machine never
// share one):
//
//	<root>/kubepods                   node allocatable; Guaranteed pods
//	<root>/kubepods/burstable         Burstable pods
//	<root>/kubepods/besteffort        BestEffort pods
//	<root>/kubepods/<tier>/pod<uid>   a pod; runc puts its containers below
type Layout struct {
	// Root is the node's cgroup, e.g. /nodeagent/<node>.
	Root string
}

// Kubepods is the cgroup of every pod: node allocatable is enforced on it.
func (l Layout) Kubepods() string { return path.Join(l.Root, "kubepods") }

// QOS is the cgroup of a QoS class's pods (kubepods for Guaranteed).
func (l Layout) QOS(class corev1.PodQOSClass) string {
	switch class {
	case corev1.PodQOSBurstable:
		return path.Join(l.Kubepods(), "burstable")
	case corev1.PodQOSBestEffort:
		return path.Join(l.Kubepods(), "besteffort")
	}
	return l.Kubepods()
}

// Pod is the cgroup of a pod of that class.
func (l Layout) Pod(class corev1.PodQOSClass, uid string) string {
	return path.Join(l.QOS(class), "pod"+uid)
}

// PodCandidates are the cgroups a pod with this uid may have, one per
// class: a pod read back from the machine is found by looking at each.
func (l Layout) PodCandidates(uid string) []string {
	return []string{l.Pod(corev1.PodQOSGuaranteed, uid), l.Pod(corev1.PodQOSBurstable, uid), l.Pod(corev1.PodQOSBestEffort, uid)}
}

// tiers are the cgroups that hold pods.
func (l Layout) tiers() []string {
	return []string{l.QOS(corev1.PodQOSGuaranteed), l.QOS(corev1.PodQOSBurstable), l.QOS(corev1.PodQOSBestEffort)}
}
