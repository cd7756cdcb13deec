package eviction

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/agent/cm"
)

// Reason is the evicted pod's status reason.
const Reason = "Evicted"

// immediateGracePeriod is what a pod evicted for a hard threshold or a
// local storage limit is given to stop (kubelet's).
const immediateGracePeriod = 1

// Manager watches the node's resources and evicts pods when they run
// low; it is safe for concurrent use.
type Manager struct {
	cfg  Config
	deps Deps

	mu sync.Mutex
	// conditions are the pressure conditions reported now.
	conditions []corev1.NodeConditionType
	// conditionsLastObservedAt is when each condition's threshold was last
	// crossed.
	conditionsLastObservedAt map[corev1.NodeConditionType]time.Time
	// firstObservedAt is when each crossed threshold was first crossed.
	firstObservedAt map[thresholdKey]time.Time
	// met are the thresholds crossed (past their grace period) at the last
	// pass: they stay crossed until their minimum reclaim is met.
	met []Threshold
}

// New makes a manager; Run starts it.
func New(cfg Config, deps Deps) *Manager {
	if deps.Reclaimer == nil {
		deps.Reclaimer = NoReclaim{}
	}
	return &Manager{cfg: cfg.Defaults(), deps: deps, conditionsLastObservedAt: map[corev1.NodeConditionType]time.Time{},
		firstObservedAt: map[thresholdKey]time.Time{}}
}

// Run makes a pass every HousekeepingInterval, and at once when a memory
// threshold is newly crossed, until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	t := m.deps.Clock.NewTicker(m.cfg.HousekeepingInterval)
	defer t.Stop()
	var memory <-chan time.Time
	if m.deps.NodeMemory != nil && len(m.memoryThresholds()) > 0 {
		w := m.deps.Clock.NewTicker(m.cfg.MemoryCheckInterval)
		defer w.Stop()
		memory = w.C()
	}
	for {
		if _, err := m.synchronize(ctx); err != nil && ctx.Err() == nil {
			m.deps.Log.Warn("eviction manager pass failed", "err", err)
		}
		if !m.waitForPass(ctx, t.C(), memory) {
			return
		}
	}
}

// waitForPass waits for the next tick, or for a memory check that finds a
// memory threshold newly crossed; false when ctx ended.
func (m *Manager) waitForPass(ctx context.Context, tick, memory <-chan time.Time) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-tick:
			return true
		case <-memory:
			if m.memoryNewlyCrossed() {
				return true
			}
		}
	}
}

// memoryThresholds are the memory.available thresholds.
func (m *Manager) memoryThresholds() []Threshold {
	var out []Threshold
	for _, t := range m.cfg.Thresholds {
		if t.Signal == SignalMemoryAvailable {
			out = append(out, t)
		}
	}
	return out
}

// memoryNewlyCrossed reads memory.available alone and says whether one of
// its thresholds is crossed that the last pass did not see crossed.
func (m *Manager) memoryNewlyCrossed() bool {
	avail, ws, err := m.deps.NodeMemory()
	if err != nil {
		return false
	}
	obs := observations{SignalMemoryAvailable: bytesObservation(avail, avail+ws)}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range thresholdsMet(m.memoryThresholds(), obs, false) {
		if _, seen := m.firstObservedAt[keyOf(t)]; !seen {
			return true
		}
	}
	return false
}

// IsUnderMemoryPressure says whether the node reports MemoryPressure.
func (m *Manager) IsUnderMemoryPressure() bool { return m.has(corev1.NodeMemoryPressure) }

// IsUnderDiskPressure says whether the node reports DiskPressure.
func (m *Manager) IsUnderDiskPressure() bool { return m.has(corev1.NodeDiskPressure) }

// IsUnderPIDPressure says whether the node reports PIDPressure.
func (m *Manager) IsUnderPIDPressure() bool { return m.has(corev1.NodePIDPressure) }

func (m *Manager) has(c corev1.NodeConditionType) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Contains(m.conditions, c)
}

// synchronize is one pass: observe, update the conditions, enforce local
// storage limits, then reclaim and evict for the most urgent crossed
// threshold. It returns the pods it evicted.
func (m *Manager) synchronize(ctx context.Context) ([]*corev1.Pod, error) {
	summary, err := m.deps.Summary.Summary(ctx)
	if err != nil {
		return nil, fmt.Errorf("eviction: stats summary: %w", err)
	}
	obs, stats := observe(summary), statsByUID(summary)
	met := m.update(obs)
	pods := m.deps.ActivePods()
	if evicted := m.localStorageEviction(ctx, pods, stats); len(evicted) > 0 {
		return evicted, nil
	}
	t, ok := mostUrgent(met)
	if !ok {
		return nil, nil
	}
	res := signalResource[t.Signal]
	m.nodeEvent(corev1.EventTypeWarning, "EvictionThresholdMet", "Attempting to reclaim %s", res)
	if m.reclaimNodeLevel(ctx, t, obs) {
		return nil, nil
	}
	return m.evictOne(ctx, pods, t, met, obs, stats), nil
}

// update computes the crossed thresholds and the conditions from the
// observations and keeps them; it returns the thresholds that are past
// their grace period.
func (m *Manager) update(obs observations) []Threshold {
	m.mu.Lock()
	now := m.deps.Clock.Now()
	crossed := thresholdsMet(m.cfg.Thresholds, obs, false)
	crossed = mergeThresholds(crossed, thresholdsMet(m.met, obs, true))
	m.firstObservedAt = firstObservedAt(crossed, m.firstObservedAt, now)
	for _, t := range crossed {
		m.conditionsLastObservedAt[signalCondition(t.Signal)] = now
	}
	conds := conditionsObservedSince(m.conditionsLastObservedAt, m.cfg.PressureTransitionPeriod, now)
	changed := !slices.Equal(conds, m.conditions)
	m.conditions = conds
	m.met = pastGracePeriod(crossed, m.firstObservedAt, now)
	met := m.met
	m.mu.Unlock()
	if changed {
		m.deps.Log.Info("eviction: node conditions", "pressure", conds)
		if m.deps.OnConditionsChanged != nil {
			m.deps.OnConditionsChanged()
		}
	}
	return met
}

// firstObservedAt keeps when each crossed threshold was first crossed
// (now for a new one) and forgets the others.
func firstObservedAt(crossed []Threshold, last map[thresholdKey]time.Time, now time.Time) map[thresholdKey]time.Time {
	out := map[thresholdKey]time.Time{}
	for _, t := range crossed {
		k := keyOf(t)
		if at, ok := last[k]; ok {
			out[k] = at
		} else {
			out[k] = now
		}
	}
	return out
}

// conditionsObservedSince are the conditions observed within period, in
// a stable order; the others are forgotten.
func conditionsObservedSince(last map[corev1.NodeConditionType]time.Time, period time.Duration, now time.Time) []corev1.NodeConditionType {
	var out []corev1.NodeConditionType
	for c, at := range last {
		if now.Sub(at) < period {
			out = append(out, c)
		} else {
			delete(last, c)
		}
	}
	slices.Sort(out)
	return out
}

// pastGracePeriod are the crossed thresholds crossed for at least their
// grace period.
func pastGracePeriod(crossed []Threshold, first map[thresholdKey]time.Time, now time.Time) []Threshold {
	var out []Threshold
	for _, t := range crossed {
		if now.Sub(first[keyOf(t)]) >= t.GracePeriod {
			out = append(out, t)
		}
	}
	return out
}

// mostUrgent is the threshold to reclaim for: memory before the others,
// as kubelet ranks them; then hard before soft.
func mostUrgent(met []Threshold) (Threshold, bool) {
	if len(met) == 0 {
		return Threshold{}, false
	}
	ts := slices.Clone(met)
	slices.SortStableFunc(ts, func(a, b Threshold) int {
		ma, mb := signalResource[a.Signal] == corev1.ResourceMemory, signalResource[b.Signal] == corev1.ResourceMemory
		if c := cmpBool(ma, mb); c != 0 {
			return c
		}
		return cmpBool(a.IsHard(), b.IsHard())
	})
	return ts[0], true
}

// reclaimNodeLevel frees the disk through the garbage collector for a
// disk signal, and says whether that was enough: no threshold is crossed
// any longer (with its minimum reclaim).
func (m *Manager) reclaimNodeLevel(ctx context.Context, t Threshold, obs observations) bool {
	res := signalResource[t.Signal]
	if res != corev1.ResourceEphemeralStorage && res != resourceInodes {
		return false
	}
	if err := m.deps.Reclaimer.DeleteAllUnusedContainers(ctx); err != nil {
		m.deps.Log.Warn("eviction: container garbage collection", "err", err)
	}
	if _, err := m.deps.Reclaimer.DeleteUnusedImages(ctx, bytesToFree(t, obs)); err != nil {
		m.deps.Log.Warn("eviction: image garbage collection", "err", err)
	}
	summary, err := m.deps.Summary.Summary(ctx)
	if err != nil {
		return false
	}
	return len(thresholdsMet(m.cfg.Thresholds, observe(summary), true)) == 0
}

// bytesToFree is how much the image filesystem must gain for a bytes
// signal to be back above its threshold and minimum reclaim; for an inode
// signal, every unused image (-1).
func bytesToFree(t Threshold, obs observations) int64 {
	o, ok := obs[t.Signal]
	if !ok || signalResource[t.Signal] == resourceInodes {
		return -1
	}
	want := t.Value.quantity(o.capacity).DeepCopy()
	if t.MinReclaim != nil {
		want.Add(*t.MinReclaim.quantity(o.capacity))
	}
	want.Sub(*o.available)
	return max(want.Value(), 0)
}

// evictOne ranks the pods for the threshold's resource and evicts the
// first one that may be evicted.
func (m *Manager) evictOne(ctx context.Context, pods []*corev1.Pod, t Threshold, met []Threshold, obs observations, stats podStats) []*corev1.Pod {
	res := signalResource[t.Signal]
	pods = slices.Clone(pods)
	switch res {
	case corev1.ResourceMemory:
		rank(pods, memoryUsage(stats), corev1.ResourceMemory)
	case resourcePIDs:
		rankPIDs(pods, processUsage(stats))
	default:
		rank(pods, diskUsage(stats, res), res)
	}
	for _, pod := range pods {
		grace := int64(immediateGracePeriod)
		if !t.IsHard() {
			grace = m.softGracePeriod(pod)
		}
		msg := evictionMessage(res, pod, stats, met, obs)
		cond := &corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
			Reason: corev1.PodReasonTerminationByKubelet, Message: msg}
		if m.evictPod(ctx, pod, grace, msg, cond) {
			return []*corev1.Pod{pod}
		}
	}
	m.deps.Log.Info("eviction: no pod to evict", "signal", t.Signal)
	return nil
}

// softGracePeriod is what a pod evicted for a soft threshold is given:
// its own grace period, at most --eviction-max-pod-grace-period.
func (m *Manager) softGracePeriod(pod *corev1.Pod) int64 {
	g := m.cfg.MaxPodGracePeriodSeconds
	if p := pod.Spec.TerminationGracePeriodSeconds; p != nil {
		g = min(g, *p)
	}
	return g
}

// localStorageEviction evicts every pod over one of its local storage
// limits.
func (m *Manager) localStorageEviction(ctx context.Context, pods []*corev1.Pod, stats podStats) []*corev1.Pod {
	var out []*corev1.Pod
	for _, pod := range pods {
		s, ok := stats(pod)
		if !ok {
			continue
		}
		if msg := overLocalLimit(pod, s); msg != "" && m.evictPod(ctx, pod, immediateGracePeriod, msg, nil) {
			out = append(out, pod)
		}
	}
	return out
}

// evictPod evicts the pod unless it is critical to the node: the Evicted
// event, then the kill with its status. It says whether the pod was
// evicted.
func (m *Manager) evictPod(ctx context.Context, pod *corev1.Pod, grace int64, msg string, cond *corev1.PodCondition) bool {
	if cm.IsCritical(pod) {
		m.deps.Log.Info("eviction: cannot evict a critical pod", "pod", pod.Namespace+"/"+pod.Name)
		return false
	}
	m.deps.Recorder.Eventf(pod, corev1.EventTypeWarning, Reason, "%s", msg)
	m.deps.Log.Info("eviction: evicting pod", "pod", pod.Namespace+"/"+pod.Name, "message", msg)
	err := m.deps.KillPod(ctx, pod, grace, func(s *corev1.PodStatus) {
		s.Phase, s.Reason, s.Message = corev1.PodFailed, Reason, msg
		if cond != nil {
			setCondition(s, *cond, m.deps.Clock.Now())
		}
	})
	if err != nil {
		m.deps.Log.Warn("eviction: killing the pod", "pod", pod.Namespace+"/"+pod.Name, "err", err)
	}
	return true
}

// nodeEvent records an event on the node, whose reference kubelet names
// by its name.
func (m *Manager) nodeEvent(typ, reason, format string, args ...any) {
	ref := &corev1.ObjectReference{Kind: "Node", Name: m.cfg.NodeName, UID: types.UID(m.cfg.NodeName)}
	m.deps.Recorder.Eventf(ref, typ, reason, format, args...)
}
