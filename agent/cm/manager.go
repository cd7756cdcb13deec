package cm

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// Config says where the node's cgroups go and what the node keeps.
type Config struct {
	// Root is the node's own cgroup (/nodeagent/<node>).
	Root string
	// Reservation is what the node keeps from its pods.
	Reservation Reservation
	// Capacity is the node's cpu, memory, ephemeral-storage and pid.
	Capacity corev1.ResourceList
}

// Manager keeps the node's QoS cgroups (kubepods, burstable, besteffort)
// and its pods' cgroups, as kubelet's container manager: node allocatable
// on kubepods, a pod's limits on its own cgroup, the burstable tier's CPU
// shares from its pods' requests. It is safe for concurrent use.
type Manager struct {
	cfg    Config
	cg     Cgroups
	layout Layout
	log    *slog.Logger
	// mu orders the tier updates.
	mu sync.Mutex
}

// New returns a Manager over cg; Start makes the QoS cgroups.
func New(cfg Config, cg Cgroups, log *slog.Logger) *Manager {
	return &Manager{cfg: cfg, cg: cg, layout: Layout{Root: cfg.Root}, log: log}
}

// Layout names the node's cgroups.
func (m *Manager) Layout() Layout { return m.layout }

// Cgroups is the hierarchy the manager writes.
func (m *Manager) Cgroups() Cgroups { return m.cg }

// MemoryCapacity is the node's memory in bytes (oom_score_adj's base).
func (m *Manager) MemoryCapacity() int64 {
	mem := m.cfg.Capacity[corev1.ResourceMemory]
	return mem.Value()
}

// Allocatable is what the node reports it offers pods.
func (m *Manager) Allocatable() corev1.ResourceList { return m.AllocatableOf(m.cfg.Capacity) }

// AllocatableOf is what the node offers pods out of capacity (the node
// status's, which also counts pods).
func (m *Manager) AllocatableOf(capacity corev1.ResourceList) corev1.ResourceList {
	alloc := m.cfg.Reservation.Allocatable(capacity)
	delete(alloc, ResourcePID) // kubelet reports no pid capacity
	return alloc
}

// Start makes kubepods with node allocatable enforced on it, then the
// burstable and besteffort tiers (BestEffort's CPU shares at the least).
func (m *Manager) Start() error {
	enforced := m.cfg.Reservation.Enforced(m.cfg.Capacity)
	if !m.reservesPIDs() {
		delete(enforced, ResourcePID)
	}
	if err := m.cg.Create(m.layout.Kubepods(), kubepodsConfig(enforced)); err != nil {
		return fmt.Errorf("node allocatable on %s: %w", m.layout.Kubepods(), err)
	}
	if err := m.cg.Create(m.layout.QOS(corev1.PodQOSBurstable), nil); err != nil {
		return err
	}
	return m.cg.Create(m.layout.QOS(corev1.PodQOSBestEffort), &ResourceConfig{CPUShares: ptr(uint64(minShares))})
}

func (m *Manager) reservesPIDs() bool {
	_, sys := m.cfg.Reservation.SystemReserved[ResourcePID]
	_, kube := m.cfg.Reservation.KubeReserved[ResourcePID]
	return sys || kube
}

// EnsurePod makes (or updates) the pod's cgroup below its QoS tier with
// its limits, and returns its path: the cgroup parent of its sandbox.
func (m *Manager) EnsurePod(pod *corev1.Pod) (string, error) {
	p := m.layout.Pod(QOSClass(pod), string(pod.UID))
	if err := m.cg.Create(p, PodResourceConfig(pod)); err != nil {
		return "", fmt.Errorf("pod cgroup %s: %w", p, err)
	}
	return p, nil
}

// PodCgroup is the cgroup the pod with this uid has, if any.
func (m *Manager) PodCgroup(uid string) (string, bool) {
	for _, p := range m.layout.PodCandidates(uid) {
		if m.cg.Exists(p) {
			return p, true
		}
	}
	return "", false
}

// DestroyPod removes the pod's cgroup (with runc's container cgroups
// below it, which must have no tasks left) from every tier it is in.
func (m *Manager) DestroyPod(uid string) error {
	var errs []error
	for _, p := range m.layout.PodCandidates(uid) {
		errs = append(errs, m.cg.Destroy(p))
	}
	return errors.Join(errs...)
}

// PodUIDs lists the uids of the pods that have a cgroup in a tier.
func (m *Manager) PodUIDs() []string {
	var out []string
	for _, tier := range m.layout.tiers() {
		names, _ := m.cg.Children(tier)
		for _, n := range names {
			if uid, ok := strings.CutPrefix(n, "pod"); ok && uid != "" {
				out = append(out, uid)
			}
		}
	}
	return out
}

// UpdateQOS sets the burstable tier's CPU shares to its pods' summed CPU
// requests, as kubelet's QoS container manager (so that Burstable pods
// together weigh what they asked for against Guaranteed ones), and on v2
// its memory.min to their summed memory requests. pods are the pods that
// run on the node.
func (m *Manager) UpdateQOS(pods []*corev1.Pod) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cg.Update(m.layout.QOS(corev1.PodQOSBurstable), burstableConfig(pods, m.cg.Version()))
}

// burstableConfig is the burstable tier's limits for these pods.
func burstableConfig(pods []*corev1.Pod, version int) *ResourceConfig {
	var milliCPU, memory int64
	for _, p := range pods {
		if QOSClass(p) != corev1.PodQOSBurstable {
			continue
		}
		t := computeTotals(p)
		cpu, mem := t.requests[corev1.ResourceCPU], t.requests[corev1.ResourceMemory]
		milliCPU += cpu.MilliValue()
		memory += mem.Value()
	}
	rc := &ResourceConfig{CPUShares: ptr(MilliCPUToShares(milliCPU))}
	if version == 2 {
		rc.MemoryMin = ptr(memory)
	}
	return rc
}

// Describe says which cgroup hierarchy and driver the manager uses, for
// the log line at start.
func (m *Manager) Describe(driver Driver) string {
	return fmt.Sprintf("cgroup v%d, %s driver, pods under %s", m.cg.Version(), driver, m.layout.Kubepods())
}
