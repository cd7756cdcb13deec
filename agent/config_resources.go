package agent

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/cm"
	"github.com/nodeagent/nodeagent/agent/eviction"
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
	// Eviction is the eviction manager's thresholds (agent/eviction).
	Eviction EvictionConfig
}

// EvictionConfig is kubelet's eviction flags.
type EvictionConfig struct {
	// Hard is --eviction-hard (kubelet's default: memory.available<100Mi,
	// nodefs.available<10%, nodefs.inodesFree<5%, imagefs.available<15%,
	// imagefs.inodesFree<5%); the flag replaces the default map, as
	// kubelet's does. Soft is --eviction-soft, SoftGracePeriod
	// --eviction-soft-grace-period, MinimumReclaim
	// --eviction-minimum-reclaim.
	Hard, Soft, SoftGracePeriod, MinimumReclaim map[string]string
	// PressureTransitionPeriod is --eviction-pressure-transition-period
	// (5m).
	PressureTransitionPeriod time.Duration
	// MaxPodGracePeriod is --eviction-max-pod-grace-period, in seconds.
	MaxPodGracePeriod int64
}

// thresholds parses the thresholds.
func (e EvictionConfig) thresholds() ([]eviction.Threshold, error) {
	return eviction.ParseThresholds(e.Hard, e.Soft, e.SoftGracePeriod, e.MinimumReclaim)
}

// defaultResourceConfig is ResourceConfig's defaults: nothing reserved.
func defaultResourceConfig() ResourceConfig {
	return ResourceConfig{CgroupMount: cgroupRoot, ImageFsDir: "/var/lib/nodeagent/containerd",
		Eviction: EvictionConfig{Hard: eviction.DefaultEvictionHard(), PressureTransitionPeriod: 5 * time.Minute}}
}

// hardEvictionReserve is what the hard eviction thresholds keep from
// allocatable (memory.available and nodefs.available).
func (a *Agent) hardEvictionReserve(capacity corev1.ResourceList) corev1.ResourceList {
	ts, err := a.cfg.Resources.Eviction.thresholds()
	if err != nil {
		return nil // Validate refused it
	}
	return eviction.HardReservation(ts, capacity)
}
