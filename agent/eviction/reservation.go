package eviction

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// HardReservation is what the hard thresholds keep from node allocatable,
// as kubelet's hardEvictionReservation: memory.available's as memory and
// nodefs.available's as ephemeral storage, percentages of capacity.
func HardReservation(ts []Threshold, capacity corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, t := range ts {
		if !t.IsHard() {
			continue
		}
		var name corev1.ResourceName
		switch t.Signal {
		case SignalMemoryAvailable:
			name = corev1.ResourceMemory
		case SignalNodeFsAvailable:
			name = corev1.ResourceEphemeralStorage
		default:
			continue
		}
		c, ok := capacity[name]
		if !ok {
			continue
		}
		out[name] = *resource.NewQuantity(t.Value.quantity(&c).Value(), resource.BinarySI)
	}
	return out
}
