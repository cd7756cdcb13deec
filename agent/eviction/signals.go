package eviction

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// Signal is what a threshold watches, named as kubelet's.
type Signal string

// The signals, as kubelet spells them in --eviction-hard.
const (
	SignalMemoryAvailable            Signal = "memory.available"
	SignalAllocatableMemoryAvailable Signal = "allocatableMemory.available"
	SignalNodeFsAvailable            Signal = "nodefs.available"
	SignalNodeFsInodesFree           Signal = "nodefs.inodesFree"
	SignalImageFsAvailable           Signal = "imagefs.available"
	SignalImageFsInodesFree          Signal = "imagefs.inodesFree"
	SignalPIDAvailable               Signal = "pid.available"
)

// Resources a signal measures beyond the API's: inodes and process IDs.
const (
	resourceInodes corev1.ResourceName = "inodes"
	resourcePIDs   corev1.ResourceName = "pids"
)

// signalResource is the resource each signal measures; a signal not here
// is not supported.
var signalResource = map[Signal]corev1.ResourceName{
	SignalMemoryAvailable:            corev1.ResourceMemory,
	SignalAllocatableMemoryAvailable: corev1.ResourceMemory,
	SignalNodeFsAvailable:            corev1.ResourceEphemeralStorage,
	SignalNodeFsInodesFree:           resourceInodes,
	SignalImageFsAvailable:           corev1.ResourceEphemeralStorage,
	SignalImageFsInodesFree:          resourceInodes,
	SignalPIDAvailable:               resourcePIDs,
}

// signalCondition is the node condition a crossed threshold of the signal
// reports.
func signalCondition(s Signal) corev1.NodeConditionType {
	switch signalResource[s] {
	case corev1.ResourceMemory:
		return corev1.NodeMemoryPressure
	case resourcePIDs:
		return corev1.NodePIDPressure
	}
	return corev1.NodeDiskPressure
}

// observation is one signal's measure: what is available of capacity.
type observation struct {
	available, capacity *resource.Quantity
}

// observations are the signals measured in one pass.
type observations map[Signal]observation

// observe measures the signals from a stats summary, as kubelet's
// makeSignalObservations; a signal the summary lacks is left out (its
// thresholds are not crossed).
func observe(s *statsapi.Summary) observations {
	out := observations{}
	if m := s.Node.Memory; m != nil && m.AvailableBytes != nil && m.WorkingSetBytes != nil {
		out[SignalMemoryAvailable] = bytesObservation(*m.AvailableBytes, *m.AvailableBytes+*m.WorkingSetBytes)
	}
	for _, c := range s.Node.SystemContainers {
		if m := c.Memory; c.Name == statsapi.SystemContainerPods && m != nil && m.AvailableBytes != nil && m.WorkingSetBytes != nil {
			out[SignalAllocatableMemoryAvailable] = bytesObservation(*m.AvailableBytes, *m.AvailableBytes+*m.WorkingSetBytes)
		}
	}
	observeFs(out, s.Node.Fs, SignalNodeFsAvailable, SignalNodeFsInodesFree)
	if s.Node.Runtime != nil {
		observeFs(out, s.Node.Runtime.ImageFs, SignalImageFsAvailable, SignalImageFsInodesFree)
	}
	if r := s.Node.Rlimit; r != nil && r.MaxPID != nil && r.NumOfRunningProcesses != nil {
		out[SignalPIDAvailable] = observation{available: resource.NewQuantity(*r.MaxPID-*r.NumOfRunningProcesses, resource.DecimalSI),
			capacity: resource.NewQuantity(*r.MaxPID, resource.DecimalSI)}
	}
	return out
}

func observeFs(out observations, fs *statsapi.FsStats, bytes, inodes Signal) {
	if fs == nil {
		return
	}
	if fs.AvailableBytes != nil && fs.CapacityBytes != nil {
		out[bytes] = bytesObservation(*fs.AvailableBytes, *fs.CapacityBytes)
	}
	if fs.InodesFree != nil && fs.Inodes != nil {
		out[inodes] = observation{available: resource.NewQuantity(int64(*fs.InodesFree), resource.DecimalSI),
			capacity: resource.NewQuantity(int64(*fs.Inodes), resource.DecimalSI)}
	}
}

func bytesObservation(available, capacity uint64) observation {
	return observation{available: resource.NewQuantity(int64(available), resource.BinarySI),
		capacity: resource.NewQuantity(int64(capacity), resource.BinarySI)}
}
