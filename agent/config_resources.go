package agent

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/cm"
)

// ResourceConfig is how the agent isolates and protects the node's
// resources, with kubelet's flags: the QoS cgroups and node allocatable
// (agent/cm).
type ResourceConfig struct {
	// CgroupDriver is --cgroup-driver: cgroupfs or systemd; empty: systemd
	// when systemd runs the machine, else cgroupfs (logged at start).
	CgroupDriver cm.Driver
	// CgroupMount is where the cgroup hierarchies are mounted
	// (/sys/fs/cgroup; no flag).
	CgroupMount string
	// SystemReserved and KubeReserved are --system-reserved and
	// --kube-reserved: kept from the pods for the OS and for the agent and
	// runtime (cpu, memory, ephemeral-storage, pid).
	SystemReserved, KubeReserved corev1.ResourceList
	// ImageFsDir's filesystem holds the runtime's images: containerd's
	// root (hack/config/containerd.toml), for imagefs.available.
	ImageFsDir string
}

// defaultResourceConfig is ResourceConfig's defaults: nothing reserved.
func defaultResourceConfig() ResourceConfig {
	return ResourceConfig{CgroupMount: cgroupRoot, ImageFsDir: "/var/lib/nodeagent/containerd"}
}

// hardEvictionReserve is what the hard eviction thresholds keep from
// allocatable.
func (a *Agent) hardEvictionReserve() corev1.ResourceList { return nil }
