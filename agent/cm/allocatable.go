package cm

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ResourcePID is the reservable number of process IDs (kubelet's "pid").
const ResourcePID corev1.ResourceName = "pid"

// reservable are the resources --system-reserved and --kube-reserved take.
func reservable() []corev1.ResourceName {
	return []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage, ResourcePID}
}

// ParseReserved parses a --system-reserved or --kube-reserved value as
// kubelet does: "cpu=100m,memory=100Mi,ephemeral-storage=1Gi,pid=1000"
// (empty: nothing reserved). flag names the flag in errors.
func ParseReserved(flag, value string) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	if strings.TrimSpace(value) == "" {
		return out, nil
	}
	for _, kv := range strings.Split(value, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("--%s: %q is not a resource=quantity pair", flag, kv)
		}
		name := corev1.ResourceName(k)
		if !slices.Contains(reservable(), name) {
			return nil, fmt.Errorf("--%s: cannot reserve %q (only cpu, memory, ephemeral-storage and pid)", flag, k)
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("--%s: %s=%s: %w", flag, k, v, err)
		}
		if q.Sign() < 0 {
			return nil, fmt.Errorf("--%s: %s=%s: a reservation cannot be negative", flag, k, v)
		}
		out[name] = q
	}
	return out, nil
}

// Reservation is what the node keeps from its pods.
type Reservation struct {
	// SystemReserved and KubeReserved are kept for the OS and for the
	// agent and runtime (--system-reserved, --kube-reserved).
	SystemReserved, KubeReserved corev1.ResourceList
	// HardEviction is the hard eviction thresholds as quantities of each
	// resource (memory from memory.available, ephemeral-storage from
	// nodefs.available): the node reports them as not allocatable, so that
	// the scheduler never fills it up to where the agent evicts.
	HardEviction corev1.ResourceList
}

// Allocatable is what the node offers pods, as kubelet reports it:
// capacity less both reservations and the hard eviction thresholds, never
// below zero.
func (r Reservation) Allocatable(capacity corev1.ResourceList) corev1.ResourceList {
	return subtract(capacity, r.SystemReserved, r.KubeReserved, r.HardEviction)
}

// Enforced is what the kubepods cgroup is limited to: capacity less both
// reservations (the eviction thresholds are the agent's to act on, not
// the kernel's), as kubelet's enforce-node-allocatable=pods.
func (r Reservation) Enforced(capacity corev1.ResourceList) corev1.ResourceList {
	return subtract(capacity, r.SystemReserved, r.KubeReserved)
}

func subtract(capacity corev1.ResourceList, less ...corev1.ResourceList) corev1.ResourceList {
	out := capacity.DeepCopy()
	for name, q := range out {
		for _, l := range less {
			if r, ok := l[name]; ok {
				q.Sub(r)
			}
		}
		if q.Sign() < 0 {
			q = *resource.NewQuantity(0, q.Format)
		}
		out[name] = q
	}
	return out
}

// kubepodsConfig is the kubepods cgroup's limits from the enforced
// allocatable: shares from its CPU, its memory, its pids.
func kubepodsConfig(enforced corev1.ResourceList) *ResourceConfig {
	rc := &ResourceConfig{}
	if cpu, ok := enforced[corev1.ResourceCPU]; ok {
		rc.CPUShares = ptr(MilliCPUToShares(cpu.MilliValue()))
	}
	if mem, ok := enforced[corev1.ResourceMemory]; ok && mem.Value() > 0 {
		rc.Memory = ptr(mem.Value())
	}
	if pids, ok := enforced[ResourcePID]; ok && pids.Value() > 0 {
		rc.PidsLimit = ptr(pids.Value())
	}
	return rc
}
