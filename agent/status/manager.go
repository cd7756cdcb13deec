package status

import (
	"context"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/utils/clock"
)

// Config wires a Manager.
type Config struct {
	// Pods writes pod status (client-go's CoreV1()).
	Pods typedcorev1.PodsGetter
	// Clock stamps condition transitions.
	Clock clock.PassiveClock
	// Target returns the API object a pod's status goes to: the pod
	// itself (the default), or for a static pod its mirror pod; false when
	// there is none (yet): the status is only held.
	Target func(pod *corev1.Pod) (*corev1.Pod, bool)
	// Resync asks for the pod to be synced again: a write met a conflict
	// or a missing object, or failed in the background.
	Resync func(pod *corev1.Pod)
	// Probing says that a prober runs the pods' probes and reports to
	// SetContainerReadiness and SetContainerStartup. Without it probes are
	// not run, and a running container is started and ready.
	Probing bool
}

// writeTimeout bounds a write that no caller's context bounds (probe
// results).
const writeTimeout = 10 * time.Second

// Manager holds the status last set for each pod and writes it to the
// API. Its methods may be called concurrently; writes of one pod are
// serialized.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu   sync.Mutex
	pods map[types.UID]*podStatus
	// written is the resourceVersion this manager's last write of each
	// API object (by its UID: a pod, or a static pod's mirror) returned;
	// targets is that object's UID for each pod.
	written map[types.UID]string
	targets map[types.UID]types.UID
}

// podStatus is what the manager knows of one pod.
type podStatus struct {
	mu     sync.Mutex
	pod    *corev1.Pod      // as last set
	status corev1.PodStatus // as last set, merged
	set    bool
	probes probeResults
	// api is the status the API holds as far as this manager knows: its
	// own last write, at the resourceVersion it returned, to object uid.
	api apiView
}

type apiView struct {
	uid    types.UID
	rv     string
	status corev1.PodStatus
}

// New returns a Manager.
func New(cfg Config, log *slog.Logger) *Manager {
	if cfg.Target == nil {
		cfg.Target = func(pod *corev1.Pod) (*corev1.Pod, bool) { return pod, true }
	}
	if cfg.Resync == nil {
		cfg.Resync = func(*corev1.Pod) {}
	}
	return &Manager{cfg: cfg, log: log, pods: map[types.UID]*podStatus{},
		written: map[types.UID]string{}, targets: map[types.UID]types.UID{}}
}

// entry returns the pod's entry; create makes it when missing.
func (m *Manager) entry(uid types.UID, create bool) *podStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.pods[uid]
	if !ok && create {
		e = &podStatus{probes: newProbeResults()}
		m.pods[uid] = e
	}
	return e
}

// GetPodStatus returns (a copy of) the status last set for the pod.
func (m *Manager) GetPodStatus(uid types.UID) (corev1.PodStatus, bool) {
	e := m.entry(uid, false)
	if e == nil {
		return corev1.PodStatus{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return *e.status.DeepCopy(), e.set
}

// OldStatus is the base of the pod's next status: the one last set, as
// kubelet takes it, unless the API says the pod has finished and this
// manager does not (another writer, such as an eviction, ended it).
func (m *Manager) OldStatus(pod *corev1.Pod) corev1.PodStatus {
	s, ok := m.GetPodStatus(pod.UID)
	if !ok || isTerminal(pod.Status.Phase) && !isTerminal(s.Phase) {
		return pod.Status
	}
	return s
}

func isTerminal(p corev1.PodPhase) bool { return p == corev1.PodSucceeded || p == corev1.PodFailed }

// SetPodStatus takes the status the pod worker computed (and owns it from
// then on), merges the probe results into it, keeps it and writes it if
// the API holds another. A conflict or a missing object asks for a resync
// and is not an error.
func (m *Manager) SetPodStatus(ctx context.Context, pod *corev1.Pod, s corev1.PodStatus) error {
	e := m.entry(pod.UID, true)
	e.mu.Lock()
	defer e.mu.Unlock()
	old := pod.Status.Conditions
	if e.set {
		old = e.status.Conditions
	}
	m.merge(pod, &s, e.probes, old)
	e.pod, e.status, e.set = pod, s, true
	e.probes.prune(&s)
	return m.write(ctx, e)
}

// merge applies the probe results, regenerates the ready conditions and
// truncates times to what the API keeps.
func (m *Manager) merge(pod *corev1.Pod, s *corev1.PodStatus, r probeResults, old []corev1.PodCondition) {
	r.apply(pod, s, m.cfg.Probing)
	SetReadyConditions(pod, s, old, m.cfg.Clock.Now())
	NormalizeTimes(s)
}

// RemovePod forgets the pod: it is gone from the node.
func (m *Manager) RemovePod(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remove(uid)
}

// remove forgets the pod and its last write; the caller holds m.mu.
func (m *Manager) remove(uid types.UID) {
	delete(m.written, m.targets[uid])
	delete(m.targets, uid)
	delete(m.pods, uid)
}

// IsOwnWrite reports whether the API object (as an informer delivers it)
// is exactly what this manager's last write of it returned: a status
// change that needs no sync, as kubelet does not sync on its own status
// updates.
func (m *Manager) IsOwnWrite(obj *corev1.Pod) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	rv, ok := m.written[obj.UID]
	return ok && rv == obj.ResourceVersion
}

// noteWrite records what a write of pod's status to target returned.
func (m *Manager) noteWrite(pod, target types.UID, rv string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.targets[pod]; ok && old != target {
		delete(m.written, old)
	}
	m.targets[pod], m.written[target] = target, rv
}

// RemoveOrphanedStatuses forgets every pod that known does not know
// (housekeeping's safety net, as kubelet's).
func (m *Manager) RemoveOrphanedStatuses(known func(types.UID) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for uid := range m.pods {
		if !known(uid) {
			m.remove(uid)
		}
	}
	for uid := range m.targets {
		if _, ok := m.pods[uid]; !ok {
			m.remove(uid) // written while it was being removed
		}
	}
}

// Len is how many pods the manager holds a status for.
func (m *Manager) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pods)
}

// SetContainerReadiness records the readiness probe's result for a
// container (its ID as the status shows it) and, when the pod's status
// changes with it, writes it at once.
func (m *Manager) SetContainerReadiness(uid types.UID, containerID string, ready bool) {
	m.setProbeResult(uid, func(r probeResults) { r.ready[containerID] = ready })
}

// SetContainerStartup records the startup probe's result for a container
// and, when the pod's status changes with it, writes it at once.
func (m *Manager) SetContainerStartup(uid types.UID, containerID string, started bool) {
	m.setProbeResult(uid, func(r probeResults) { r.started[containerID] = started })
}

// setProbeResult records a result for a pod whose status was set (a pod
// the manager does not hold is gone, or not yet started: nothing to do).
func (m *Manager) setProbeResult(uid types.UID, record func(probeResults)) {
	e := m.entry(uid, false)
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	record(e.probes)
	if !e.set {
		return
	}
	s := *e.status.DeepCopy()
	m.merge(e.pod, &s, e.probes, e.status.Conditions)
	if equality.Semantic.DeepEqual(s, e.status) {
		return
	}
	e.status = s
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := m.write(ctx, e); err != nil {
		m.log.Warn("writing a probe result to the pod's status failed; the pod is synced again", "pod", e.pod.Namespace+"/"+e.pod.Name, "err", err)
		m.cfg.Resync(e.pod)
	}
}
