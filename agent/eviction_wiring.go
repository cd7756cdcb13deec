package agent

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"

	"github.com/nodeagent/nodeagent/agent/eviction"
)

// WithDiskReclaimer makes the eviction manager free the disk through r
// (the image and container garbage collector) before it evicts a pod for
// disk pressure; without it, nothing is reclaimed first.
func WithDiskReclaimer(r eviction.DiskReclaimer) Option { return func(a *Agent) { a.reclaimer = r } }

// newEvictionManager wires the eviction manager (agent/eviction) to the
// stats summary, the active pods and evictPod.
func (a *Agent) newEvictionManager() (*eviction.Manager, error) {
	e := a.cfg.Resources.Eviction
	ts, err := e.thresholds()
	if err != nil {
		return nil, fmt.Errorf("eviction thresholds: %w", err)
	}
	cfg := eviction.Config{NodeName: a.cfg.NodeName, Thresholds: ts, PressureTransitionPeriod: e.PressureTransitionPeriod,
		MaxPodGracePeriodSeconds: e.MaxPodGracePeriod}
	return eviction.New(cfg, eviction.Deps{Summary: a.stats, NodeMemory: a.stats.NodeMemory, ActivePods: a.activePods, KillPod: a.evictPod,
		Reclaimer: a.reclaimer, Recorder: eventRecorder{a}, OnConditionsChanged: a.kickNodeStatus, Clock: a.clock,
		Log: a.log.With("component", "eviction")}), nil
}

// runEviction starts the eviction manager once the pod cache has synced:
// before, the active pods are not known.
func (a *Agent) runEviction(ctx context.Context) {
	if cache.WaitForCacheSync(ctx.Done(), a.pods.HasSynced) {
		a.eviction.Run(ctx)
	}
}

// kickNodeStatus posts the node's status now (a pressure condition
// changed).
func (a *Agent) kickNodeStatus() {
	if a.nodeStatus != nil {
		a.nodeStatus.Kick()
	}
}

// evictionStopTimeout is how long evictPod waits for an evicted pod's
// containers to stop beyond its grace period, as kubelet's eviction
// manager waits for a pod's cleanup.
const evictionStopTimeout = 30 * time.Second

// evictPod is the eviction manager's KillPodFunc, as kubelet's
// killPodNow: the pod is given its final status (Failed, Evicted) and its
// grace period, its worker kills it, and evictPod returns once its
// containers have stopped (or the wait times out).
func (a *Agent) evictPod(ctx context.Context, pod *corev1.Pod, grace int64, setStatus func(*corev1.PodStatus)) error {
	old := a.statusManager.OldStatus(pod)
	s := *old.DeepCopy()
	setStatus(&s)
	a.podSync.get(pod.UID).setGraceOverride(time.Duration(grace) * time.Second)
	err := a.statusManager.SetPodStatus(ctx, pod, s)
	a.queue.Add(podWorkKey(pod))
	if err != nil {
		return fmt.Errorf("evict %s: status: %w", podKey(pod), err)
	}
	stopped := func(ctx context.Context) (bool, error) {
		st, err := a.podState(ctx, string(pod.UID))
		return err == nil && len(st.running()) == 0, nil
	}
	timeout := time.Duration(grace)*time.Second + evictionStopTimeout
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, stopped); err != nil {
		return fmt.Errorf("evict %s: containers still running: %w", podKey(pod), err)
	}
	return nil
}

// keepEvicted keeps an evicted pod Failed: its containers' exit after the
// eviction (0 on SIGTERM, for a pod that does not restart) does not make
// it Succeeded.
func keepEvicted(old *corev1.Pod, s *corev1.PodStatus) {
	if old.Status.Phase == corev1.PodFailed && old.Status.Reason == eviction.Reason {
		s.Phase, s.Reason, s.Message = corev1.PodFailed, eviction.Reason, old.Status.Message
	}
}

// podAdmitter says whether a new pod may start (the eviction manager).
type podAdmitter interface {
	Admit(pod *corev1.Pod) (ok bool, reason, message string)
}

// admitNewPod refuses, as kubelet's pod admission, a pod this node has not
// started yet (no sandbox, no start time) while the node's pressure
// forbids it: the pod is Failed with the refusal's reason and "Pod was
// rejected: " and its message, and never runs. It says whether the pod
// may go on.
func (a *Agent) admitNewPod(ctx context.Context, pod *corev1.Pod, st podState) (bool, error) {
	if a.admitter == nil || pod.DeletionTimestamp != nil || len(st.sandboxes) > 0 {
		return true, nil
	}
	old := a.statusManager.OldStatus(pod)
	if old.StartTime != nil || isFinished(old) {
		return true, nil
	}
	ok, reason, msg := a.admitter.Admit(pod)
	if ok {
		return true, nil
	}
	msg = "Pod was rejected: " + msg
	a.event(pod, corev1.EventTypeWarning, reason, "%s", msg)
	s := *old.DeepCopy()
	s.Phase, s.Reason, s.Message = corev1.PodFailed, reason, msg
	return false, a.statusManager.SetPodStatus(ctx, pod, s)
}
