package cm

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// CPU conversions, as kubelet's: shares are 1024 a core, at least 2; a
// CFS quota is per 100 ms period, at least 1 ms.
const (
	minShares        = 2
	maxShares        = 262144
	sharesPerCPU     = 1024
	milliCPUToCPU    = 1000
	defaultCPUPeriod = 100000
	minQuotaPeriod   = 1000
)

// MilliCPUToShares is the cpu.shares of a CPU request in millicores.
func MilliCPUToShares(milliCPU int64) uint64 {
	if milliCPU == 0 {
		return minShares
	}
	shares := milliCPU * sharesPerCPU / milliCPUToCPU
	return uint64(min(max(shares, minShares), maxShares))
}

// MilliCPUToQuota is the CFS quota of a CPU limit in millicores over
// period µs; 0 (no quota) for no limit.
func MilliCPUToQuota(milliCPU int64, period int64) int64 {
	if milliCPU == 0 {
		return 0
	}
	return max(milliCPU*period/milliCPUToCPU, minQuotaPeriod)
}

// podTotals are a pod's effective requests and limits, as kubelet's
// resource helpers sum them: app containers and sidecars add up; an init
// container runs alone (beside the sidecars started before it), so the
// pod needs the larger of the two. limited says whether every container
// sets a limit of that resource, anyLimit whether one does. Pod-level
// resources (spec.resources), when set, decide.
type podTotals struct {
	requests, limits  corev1.ResourceList
	limited, anyLimit map[corev1.ResourceName]bool
}

func computeTotals(pod *corev1.Pod) podTotals {
	t := podTotals{requests: corev1.ResourceList{}, limits: corev1.ResourceList{},
		limited: map[corev1.ResourceName]bool{}, anyLimit: map[corev1.ResourceName]bool{}}
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		t.requests[name] = effective(pod, name, func(c corev1.Container) corev1.ResourceList { return c.Resources.Requests })
		t.limits[name] = effective(pod, name, func(c corev1.Container) corev1.ResourceList { return c.Resources.Limits })
		t.limited[name], t.anyLimit[name] = containersLimiting(pod, name)
	}
	if r := pod.Spec.Resources; r != nil {
		for name, q := range r.Requests {
			t.requests[name] = q
		}
		for name, q := range r.Limits {
			t.limits[name], t.limited[name], t.anyLimit[name] = q, true, true
		}
	}
	for name, q := range pod.Spec.Overhead {
		add(t.requests, name, q)
		if t.limited[name] {
			add(t.limits, name, q)
		}
	}
	return t
}

// effective sums the app containers' and sidecars' quantities of name
// and takes the larger of that and what each init container needs.
func effective(pod *corev1.Pod, name corev1.ResourceName, list func(corev1.Container) corev1.ResourceList) resource.Quantity {
	var sidecars, apps, initPeak resource.Quantity
	for _, c := range pod.Spec.InitContainers {
		q := list(c)[name]
		if isSidecar(c) {
			sidecars.Add(q)
			continue
		}
		need := sidecars.DeepCopy()
		need.Add(q)
		if need.Cmp(initPeak) > 0 {
			initPeak = need
		}
	}
	for _, c := range pod.Spec.Containers {
		apps.Add(list(c)[name])
	}
	apps.Add(sidecars)
	if initPeak.Cmp(apps) > 0 {
		return initPeak
	}
	return apps
}

// containersLimiting says whether every container limits name, and
// whether any does.
func containersLimiting(pod *corev1.Pod, name corev1.ResourceName) (every, some bool) {
	every = true
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		q, ok := c.Resources.Limits[name]
		limits := ok && !q.IsZero()
		every, some = every && limits, some || limits
	}
	return every, some
}

func isSidecar(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

func add(list corev1.ResourceList, name corev1.ResourceName, q resource.Quantity) {
	sum := list[name]
	sum.Add(q)
	list[name] = sum
}

// PodRequest is the pod's effective request of a resource (zero when it
// requests none), as the eviction manager ranks it.
func PodRequest(pod *corev1.Pod, name corev1.ResourceName) resource.Quantity {
	return computeTotals(pod).requests[name]
}

// PodLimit is the sum of the pod's limits of a resource and whether any
// container (or the pod) sets one, as kubelet's eviction manager reads an
// ephemeral-storage limit.
func PodLimit(pod *corev1.Pod, name corev1.ResourceName) (resource.Quantity, bool) {
	t := computeTotals(pod)
	return t.limits[name], t.anyLimit[name]
}
