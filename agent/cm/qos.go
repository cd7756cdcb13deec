package cm

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/api/defaults"
)

// QOSClass is the pod's QoS class: status.qosClass as the API server set
// it, else computed from the spec (a static pod's).
func QOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass
	}
	return defaults.PodQOSClass(pod)
}

// PodResourceConfig is the pod cgroup's limits, as kubelet's
// ResourceConfigForPod: CPU shares from the summed requests (2 for
// BestEffort); a CFS quota from the summed CPU limits and a memory limit
// from the summed memory limits, each only when every container sets one
// (a Guaranteed pod always does). memory.min (v2) is the summed memory
// requests.
func PodResourceConfig(pod *corev1.Pod) *ResourceConfig {
	if QOSClass(pod) == corev1.PodQOSBestEffort {
		return &ResourceConfig{CPUShares: ptr(uint64(minShares))}
	}
	t := computeTotals(pod)
	cpuReq, cpuLim := t.requests[corev1.ResourceCPU], t.limits[corev1.ResourceCPU]
	rc := &ResourceConfig{CPUShares: ptr(MilliCPUToShares(cpuReq.MilliValue()))}
	if t.limited[corev1.ResourceCPU] {
		rc.CPUQuota = ptr(MilliCPUToQuota(cpuLim.MilliValue(), defaultCPUPeriod))
		rc.CPUPeriod = ptr(uint64(defaultCPUPeriod))
	}
	if t.limited[corev1.ResourceMemory] {
		mem := t.limits[corev1.ResourceMemory]
		rc.Memory = ptr(mem.Value())
	}
	if memReq := t.requests[corev1.ResourceMemory]; memReq.Value() > 0 {
		rc.MemoryMin = ptr(memReq.Value())
	}
	return rc
}

// Kubelet's OOM score adjustments.
const (
	// SandboxOOMScoreAdj is the pause process's (containerd CRI's default).
	SandboxOOMScoreAdj    = -998
	guaranteedOOMScoreAdj = -997
	besteffortOOMScoreAdj = 1000
)

// OOMScoreAdj is a container's oom_score_adj, as kubelet's policy: -997
// for node-critical pods and Guaranteed ones, 1000 for BestEffort; a
// Burstable container gets 1000 - 1000*request/capacity, so that one that
// asked for more memory is killed later, kept within [3, 999] (above any
// Guaranteed container's, below BestEffort's); a sidecar no higher than
// the pod's regular container with the smallest request.
func OOMScoreAdj(pod *corev1.Pod, c *corev1.Container, memoryCapacity int64) int {
	if IsNodeCritical(pod) {
		return guaranteedOOMScoreAdj
	}
	switch QOSClass(pod) {
	case corev1.PodQOSGuaranteed:
		return guaranteedOOMScoreAdj
	case corev1.PodQOSBestEffort:
		return besteffortOOMScoreAdj
	}
	if memoryCapacity <= 0 {
		return besteffortOOMScoreAdj - 1
	}
	adj := 1000 - 1000*c.Resources.Requests.Memory().Value()/memoryCapacity
	if isSidecar(*c) && isInitContainer(pod, c.Name) {
		adj = min(adj, 1000-1000*minRegularMemoryRequest(pod)/memoryCapacity)
	}
	if adj < 1000+guaranteedOOMScoreAdj {
		return 1000 + guaranteedOOMScoreAdj
	}
	if adj == besteffortOOMScoreAdj {
		return besteffortOOMScoreAdj - 1
	}
	return int(adj)
}

func isInitContainer(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// minRegularMemoryRequest is the smallest memory request among the app
// containers.
func minRegularMemoryRequest(pod *corev1.Pod) int64 {
	var least int64 = -1
	for _, c := range pod.Spec.Containers {
		if r := c.Resources.Requests.Memory().Value(); least < 0 || r < least {
			least = r
		}
	}
	return max(least, 0)
}

// Priorities of the built-in classes, and the least priority that makes a
// pod critical.
const (
	SystemCriticalPriority = 2000000000
	systemNodeCritical     = "system-node-critical"
)

// IsCritical says whether the pod is critical to the node, as kubelet's
// IsCriticalPod: a static or mirror pod, or one whose priority is at
// least system-cluster-critical's. The eviction manager never evicts one.
func IsCritical(pod *corev1.Pod) bool {
	if isStaticOrMirror(pod) {
		return true
	}
	return pod.Spec.Priority != nil && *pod.Spec.Priority >= SystemCriticalPriority
}

// IsNodeCritical is a critical pod of the system-node-critical class.
func IsNodeCritical(pod *corev1.Pod) bool {
	return IsCritical(pod) && pod.Spec.PriorityClassName == systemNodeCritical
}

// Annotations that mark a static pod (kubelet's config source) and a
// mirror pod.
const (
	configSourceAnnotation = "kubernetes.io/config.source"
	configMirrorAnnotation = "kubernetes.io/config.mirror"
)

func isStaticOrMirror(pod *corev1.Pod) bool {
	if _, ok := pod.Annotations[configMirrorAnnotation]; ok {
		return true
	}
	src, ok := pod.Annotations[configSourceAnnotation]
	return ok && src != "api"
}

func ptr[T any](v T) *T { return &v }
