package eviction

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// podStats finds a pod's stats in the summary by uid.
type podStats func(pod *corev1.Pod) (statsapi.PodStats, bool)

func statsByUID(s *statsapi.Summary) podStats {
	byUID := make(map[string]statsapi.PodStats, len(s.Pods))
	for _, p := range s.Pods {
		byUID[p.PodRef.UID] = p
	}
	return func(pod *corev1.Pod) (statsapi.PodStats, bool) {
		p, ok := byUID[string(pod.UID)]
		return p, ok
	}
}

// usageFunc is what a pod uses of the resource being reclaimed; ok false
// when its stats are unknown.
type usageFunc func(pod *corev1.Pod) (usage int64, ok bool)

// rank orders the pods for eviction as kubelet does: those whose usage
// exceeds their request first (a pod without stats before all), then the
// lowest priority, then the largest usage above the request. resource
// is the request's resource.
func rank(pods []*corev1.Pod, usage usageFunc, res corev1.ResourceName) {
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		ua, oka := usage(a)
		ub, okb := usage(b)
		if oka != okb {
			return cmpBool(!oka, !okb)
		}
		ra, rb := podRequest(a, res), podRequest(b, res)
		if c := cmpBool(ua > ra, ub > rb); c != 0 {
			return c
		}
		if c := cmp.Compare(priority(a), priority(b)); c != 0 {
			return c
		}
		return cmp.Compare(ub-rb, ua-ra)
	})
}

// rankPIDs orders the pods for PID pressure: lowest priority, then most
// processes.
func rankPIDs(pods []*corev1.Pod, usage usageFunc) {
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		if c := cmp.Compare(priority(a), priority(b)); c != 0 {
			return c
		}
		ua, _ := usage(a)
		ub, _ := usage(b)
		return cmp.Compare(ub, ua)
	})
}

// cmpBool puts true first.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// priority is the pod's spec.priority (the Priority admission sets it
// from its class); none: 0.
func priority(pod *corev1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}

// podRequest is the pod's effective request of the resource, as kube
// computes it: its containers' and running sidecars' requests, or more if
// an init container (with the sidecars started before it) asks for more,
// plus the pod's overhead.
func podRequest(pod *corev1.Pod, res corev1.ResourceName) int64 {
	var apps, sidecars, initMax int64
	for _, c := range pod.Spec.Containers {
		apps += request(c, res)
	}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars += request(c, res)
			initMax = max(initMax, sidecars)
			continue
		}
		initMax = max(initMax, sidecars+request(c, res))
	}
	total := max(apps+sidecars, initMax)
	if q, ok := pod.Spec.Overhead[res]; ok {
		total += q.Value()
	}
	return total
}

func request(c corev1.Container, res corev1.ResourceName) int64 {
	if q, ok := c.Resources.Requests[res]; ok {
		return q.Value()
	}
	return 0
}

// memoryUsage is a pod's working set.
func memoryUsage(stats podStats) usageFunc {
	return func(pod *corev1.Pod) (int64, bool) {
		s, ok := stats(pod)
		if !ok || s.Memory == nil || s.Memory.WorkingSetBytes == nil {
			return 0, false
		}
		return int64(*s.Memory.WorkingSetBytes), true
	}
}

// processUsage is a pod's number of processes.
func processUsage(stats podStats) usageFunc {
	return func(pod *corev1.Pod) (int64, bool) {
		s, ok := stats(pod)
		if !ok || s.ProcessStats == nil || s.ProcessStats.ProcessCount == nil {
			return 0, false
		}
		return int64(*s.ProcessStats.ProcessCount), true
	}
}

// diskUsage is what a pod uses of the node's filesystem: its containers'
// logs and writable layers and its local volumes, in bytes or in inodes.
// The image and node filesystems are ranked alike: the agent does not
// tell which of a pod's files lie on which.
func diskUsage(stats podStats, res corev1.ResourceName) usageFunc {
	return func(pod *corev1.Pod) (int64, bool) {
		s, ok := stats(pod)
		if !ok {
			return 0, false
		}
		bytes, inodes := podDiskUsage(s)
		if res == resourceInodes {
			return inodes, true
		}
		return bytes, true
	}
}

// podDiskUsage sums the pod's containers' logs and writable layers and its
// local volumes.
func podDiskUsage(s statsapi.PodStats) (bytes, inodes int64) {
	add := func(fs *statsapi.FsStats) {
		if fs == nil {
			return
		}
		if fs.UsedBytes != nil {
			bytes += int64(*fs.UsedBytes)
		}
		if fs.InodesUsed != nil {
			inodes += int64(*fs.InodesUsed)
		}
	}
	for _, c := range s.Containers {
		add(c.Logs)
		add(c.Rootfs)
	}
	for i := range s.VolumeStats {
		add(&s.VolumeStats[i].FsStats)
	}
	return bytes, inodes
}

// containerDiskUsage is a container's logs and writable layer.
func containerDiskUsage(c statsapi.ContainerStats) int64 {
	var n int64
	for _, fs := range []*statsapi.FsStats{c.Logs, c.Rootfs} {
		if fs != nil && fs.UsedBytes != nil {
			n += int64(*fs.UsedBytes)
		}
	}
	return n
}

func bytesQuantity(n int64) *resource.Quantity { return resource.NewQuantity(n, resource.BinarySI) }
