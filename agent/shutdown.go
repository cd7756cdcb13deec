package agent

import (
	"context"
	"errors"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/agent/shutdown"
)

// Graceful node shutdown (agent/shutdown): the agent is its Pods. A pod
// being terminated for shutdown is synced by syncTermination instead of
// the usual actions: its status is failed as the manager says, and it is
// killed with the grace the manager gives it.

// WithShutdownInhibitor turns graceful node shutdown on with logind (or a
// fake), when the config's --shutdown-grace-period is not 0.
func WithShutdownInhibitor(inh shutdown.Inhibitor) Option {
	return func(a *Agent) { a.inhibitor = inh }
}

// runShutdown runs the shutdown manager, if on, until ctx ends.
func (a *Agent) runShutdown(ctx context.Context) {
	if a.shutdown == nil {
		return
	}
	if err := a.shutdown.Run(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("graceful node shutdown off", "err", err)
	}
}

// newShutdownManager is nil unless graceful shutdown is on.
func (a *Agent) newShutdownManager() *shutdown.Manager {
	if a.inhibitor == nil || !a.cfg.Shutdown.Enabled() {
		return nil
	}
	return shutdown.New(a.cfg.Shutdown, a.inhibitor, shutdownPods{a}, a.clock, a.log.With("component", "shutdown"))
}

// shuttingDown says whether the node is shutting down (the node is then
// not ready).
func (a *Agent) shuttingDown() bool { return a.shutdown != nil && a.shutdown.ShuttingDown() }

// termination is one pod being terminated for shutdown.
type termination struct {
	grace  time.Duration
	status func(*corev1.PodStatus)
	done   chan struct{}
	once   sync.Once
}

func (t *termination) finish() { t.once.Do(func() { close(t.done) }) }

// withGrace is the pod with the termination's grace as its own.
func (t *termination) withGrace(pod *corev1.Pod) *corev1.Pod {
	p := pod.DeepCopy()
	secs := int64(t.grace / time.Second)
	p.Spec.TerminationGracePeriodSeconds = &secs
	return p
}

// terminations are the pods being terminated, by uid.
type terminations struct {
	mu sync.Mutex
	m  map[types.UID]*termination
}

func (ts *terminations) get(uid types.UID) *termination {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.m[uid]
}

func (ts *terminations) add(uid types.UID, t *termination) *termination {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.m == nil {
		ts.m = map[types.UID]*termination{}
	}
	if old, ok := ts.m[uid]; ok {
		return old
	}
	ts.m[uid] = t
	return t
}

// shutdownPods is the agent as the shutdown manager sees it.
type shutdownPods struct{ a *Agent }

var _ shutdown.Pods = shutdownPods{}

// ActivePods are the API's pods bound here and the static pods, but not
// mirror pods, pods being deleted (they are stopping already) and pods
// that have finished.
func (s shutdownPods) ActivePods() []*corev1.Pod {
	var out []*corev1.Pod
	for _, obj := range s.a.pods.GetStore().List() {
		if p := obj.(*corev1.Pod); !isMirror(p) && s.active(p) {
			out = append(out, p)
		}
	}
	s.a.staticMu.Lock()
	defer s.a.staticMu.Unlock()
	for _, p := range s.a.static {
		if s.active(p) {
			out = append(out, p)
		}
	}
	return out
}

func (s shutdownPods) active(p *corev1.Pod) bool {
	phase := s.a.statusManager.OldStatus(p).Phase
	return p.DeletionTimestamp == nil && phase != corev1.PodSucceeded && phase != corev1.PodFailed
}

// TerminatePod marks the pod and has its worker sync it; it returns when
// its containers have stopped or ctx ends.
func (s shutdownPods) TerminatePod(ctx context.Context, pod *corev1.Pod, grace time.Duration, status func(*corev1.PodStatus)) error {
	t := s.a.terminations.add(pod.UID, &termination{grace: grace, status: status, done: make(chan struct{})})
	s.a.queue.Add(podWorkKey(pod))
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// shutdownTermination is the pod's termination for shutdown, if any: the
// shutdown manager's, or, while the node shuts down, a refusal of a pod
// that has not started, as kubelet's admission refuses it (Failed,
// NodeShutdown, a warning event).
func (a *Agent) shutdownTermination(ctx context.Context, pod *corev1.Pod) (*termination, error) {
	if pod.DeletionTimestamp != nil {
		return nil, nil
	}
	if t := a.terminations.get(pod.UID); t != nil || !a.shuttingDown() {
		return t, nil
	}
	st, err := a.podState(ctx, string(pod.UID))
	if err != nil {
		return nil, err
	}
	if phase := a.statusManager.OldStatus(pod).Phase; len(st.sandboxes) > 0 || phase == corev1.PodSucceeded || phase == corev1.PodFailed {
		return nil, nil
	}
	a.event(pod, corev1.EventTypeWarning, shutdown.RejectedReason, "%s", shutdown.RejectedMessage)
	return a.terminations.add(pod.UID, &termination{status: rejectedForShutdown, done: make(chan struct{})}), nil
}

func rejectedForShutdown(s *corev1.PodStatus) {
	s.Phase, s.Reason, s.Message = corev1.PodFailed, shutdown.RejectedReason, "Pod was rejected: "+shutdown.RejectedMessage
}

// syncTermination fails the pod as the shutdown manager says, then kills
// it with its grace; once nothing of it runs, the manager hears so.
func (a *Agent) syncTermination(ctx context.Context, pod *corev1.Pod, t *termination) error {
	pod = t.withGrace(pod)
	st, err := a.podState(ctx, string(pod.UID))
	if err != nil {
		return err
	}
	a.prober.RemovePod(pod.UID)
	early := a.updateStatus(ctx, pod, st)
	killErr := a.apply(ctx, pod, st, podActions{killPod: true})
	if st, err = a.podState(ctx, string(pod.UID)); err != nil {
		return errors.Join(early, killErr, err)
	}
	if len(st.running()) == 0 {
		t.finish()
	}
	return errors.Join(killErr, a.updateStatus(ctx, pod, st))
}
