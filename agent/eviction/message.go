package eviction

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// Kubelet's messages for an eviction under pressure.
const (
	nodeLowMessageFmt      = "The node was low on resource: %v. "
	thresholdMetMessageFmt = "Threshold quantity: %v, available: %v. "
	containerMessageFmt    = "Container %s was using %s, request is %s, has larger consumption of %v. "
)

// evictionMessage is kubelet's message for a pod evicted to reclaim res:
// the resource, the first crossed threshold of it with what is available,
// and each container that uses more than it requests.
func evictionMessage(res corev1.ResourceName, pod *corev1.Pod, stats podStats, met []Threshold, obs observations) string {
	msg := fmt.Sprintf(nodeLowMessageFmt, res)
	for _, t := range met {
		if o, ok := obs[t.Signal]; ok && signalResource[t.Signal] == res {
			msg += fmt.Sprintf(thresholdMetMessageFmt, t.Value.quantity(o.capacity), o.available)
			break
		}
	}
	s, ok := stats(pod)
	if !ok {
		return msg
	}
	specs := append(append([]corev1.Container(nil), pod.Spec.Containers...), pod.Spec.InitContainers...)
	for _, cs := range s.Containers {
		for _, c := range specs {
			if c.Name != cs.Name {
				continue
			}
			req := c.Resources.Requests[res]
			if usage := containerUsage(res, cs); usage != nil && usage.Cmp(req) > 0 {
				msg += fmt.Sprintf(containerMessageFmt, c.Name, usage.String(), req.String(), res)
			}
			break
		}
	}
	return msg
}

// containerUsage is a container's working set (memory) or logs and
// writable layer (ephemeral storage); nil when unknown or another
// resource.
func containerUsage(res corev1.ResourceName, cs statsapi.ContainerStats) *resource.Quantity {
	switch res {
	case corev1.ResourceMemory:
		if cs.Memory != nil && cs.Memory.WorkingSetBytes != nil {
			return bytesQuantity(int64(*cs.Memory.WorkingSetBytes))
		}
	case corev1.ResourceEphemeralStorage:
		if cs.Logs != nil && cs.Logs.UsedBytes != nil {
			return bytesQuantity(containerDiskUsage(cs))
		}
	}
	return nil
}

// setCondition sets the pod condition c, keeping its transition time when
// its status stays.
func setCondition(s *corev1.PodStatus, c corev1.PodCondition, now time.Time) {
	c.LastTransitionTime = metav1.NewTime(now)
	for i, o := range s.Conditions {
		if o.Type != c.Type {
			continue
		}
		if o.Status == c.Status {
			c.LastTransitionTime = o.LastTransitionTime
		}
		s.Conditions[i] = c
		return
	}
	s.Conditions = append(s.Conditions, c)
}
