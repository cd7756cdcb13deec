package prober

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// workerKey names a worker: one per pod, container and kind.
type workerKey struct {
	uid       types.UID
	container string
	kind      Kind
}

// worker probes one container's probe of one kind every period, from the
// container's start (after the initial delay) until the pod ends or the
// worker is stopped. It publishes a result only once the same outcome came
// threshold times in a row.
type worker struct {
	m         *Manager
	key       workerKey
	pod       *corev1.Pod
	container corev1.Container
	spec      *corev1.Probe
	initial   Result // the result of a new container before any probe

	stopCh   chan struct{} // buffered: stop never blocks
	stopped  atomic.Bool
	triggers chan struct{} // buffered: a probe now, without waiting for the tick

	// Owned by the worker's goroutine.
	containerID string // the container instance probed, as the status shows it
	lastResult  Result
	resultRun   int  // how many times in a row lastResult came
	onHold      bool // no probing until a new container instance
}

func newWorker(m *Manager, kind Kind, pod *corev1.Pod, c corev1.Container) *worker {
	w := &worker{m: m, key: workerKey{pod.UID, c.Name, kind}, pod: pod, container: c,
		stopCh: make(chan struct{}, 1), triggers: make(chan struct{}, 1)}
	switch kind {
	case Liveness:
		w.spec, w.initial = c.LivenessProbe, Success
	case Readiness:
		w.spec, w.initial = c.ReadinessProbe, Failure
	case Startup:
		w.spec, w.initial = c.StartupProbe, Unknown
	}
	return w
}

// stop ends the worker; it is safe to call more than once.
func (w *worker) stop() {
	w.stopped.Store(true)
	select {
	case w.stopCh <- struct{}{}:
	default:
	}
}

// trigger asks for a probe now.
func (w *worker) trigger() {
	select {
	case w.triggers <- struct{}{}:
	default:
	}
}

// run probes every period until doProbe says to end, ctx ends or the
// worker is stopped; then it forgets its result and leaves the manager.
func (w *worker) run(ctx context.Context) {
	defer w.cleanup()
	p := period(w.spec)
	if !w.jitter(ctx, p) {
		return
	}
	ticker := w.m.cfg.Clock.NewTicker(p)
	defer func() { ticker.Stop() }()
	for w.doProbe(ctx) {
		select {
		case <-ctx.Done():
			return
		case <-w.stopCh:
			return
		case <-ticker.C():
		case <-w.triggers:
			// The next periodic probe comes one period after this one.
			ticker.Stop()
			ticker = w.m.cfg.Clock.NewTicker(p)
		}
	}
}

// jitter waits a random part of the period when the manager started less
// than a period ago; false if the worker was stopped meanwhile.
func (w *worker) jitter(ctx context.Context, p time.Duration) bool {
	clk := w.m.cfg.Clock
	if clk.Since(w.m.start) >= p {
		return true
	}
	d := time.Duration(w.m.cfg.Jitter() * float64(p))
	if d <= 0 {
		return true
	}
	return waitOrStop(ctx, clk, d, w.stopCh)
}

func waitOrStop(ctx context.Context, clk clock.Clock, d time.Duration, stop <-chan struct{}) bool {
	select {
	case <-clk.After(d):
		return true
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
}

func (w *worker) cleanup() {
	if w.containerID != "" {
		w.m.results.Remove(w.key.kind, w.containerID)
	}
	w.m.cfg.Metrics.ForgetProbe(w.pod, w.container.Name, w.key.kind)
	w.m.removeWorker(w)
}

// doProbe probes once if it is time to, and records the result. It returns
// whether the worker should go on.
func (w *worker) doProbe(ctx context.Context) bool {
	status, ok := w.m.cfg.Status.GetPodStatus(w.pod.UID)
	if !ok {
		return true // not created yet, or gone: the manager stops us then
	}
	if status.Phase == corev1.PodFailed || status.Phase == corev1.PodSucceeded {
		return false
	}
	c, ok := containerStatus(status, w.container.Name)
	if !ok || c.ContainerID == "" {
		return true // not created yet
	}
	w.follow(ctx, c.ContainerID)
	if w.onHold {
		return true
	}
	if c.State.Running == nil {
		w.m.results.Set(ctx, w.key.kind, w.containerID, w.pod.UID, Failure)
		// A container that will not restart is done with probes.
		return c.State.Terminated == nil || w.pod.Spec.RestartPolicy != corev1.RestartPolicyNever
	}
	if w.key.kind != Readiness && w.pod.DeletionTimestamp != nil {
		// A pod shutting down is not restarted for a failed probe.
		w.m.results.Set(ctx, w.key.kind, w.containerID, w.pod.UID, Success)
		return false
	}
	if !w.due(c) {
		return true
	}
	w.probe(ctx, status)
	return true
}

// follow switches the worker to a new container instance: its result
// starts at the kind's initial value and probing resumes.
func (w *worker) follow(ctx context.Context, id string) {
	if id == w.containerID {
		return
	}
	if w.containerID != "" {
		w.m.results.Remove(w.key.kind, w.containerID)
	}
	w.containerID, w.onHold, w.resultRun = id, false, 0
	w.m.results.Set(ctx, w.key.kind, id, w.pod.UID, w.initial)
}

// due says whether the running container is to be probed now: after the
// initial delay; the startup probe until the container has started, the
// others only after.
func (w *worker) due(c corev1.ContainerStatus) bool {
	if w.m.cfg.Clock.Since(c.State.Running.StartedAt.Time) < time.Duration(w.spec.InitialDelaySeconds)*time.Second {
		return false
	}
	started := c.Started != nil && *c.Started
	return started == (w.key.kind != Startup)
}

// probe runs the probe and records the result once its threshold is met.
func (w *worker) probe(ctx context.Context, status corev1.PodStatus) {
	t := target{pod: w.pod, container: &w.container, containerID: runtimeID(w.containerID), podIP: status.PodIP}
	start := w.m.cfg.Clock.Now()
	res, err := w.m.prober.probe(ctx, w.key.kind, t, w.spec)
	if err != nil {
		return // not run at all: keep the result we have
	}
	w.m.cfg.Metrics.ObserveProbe(w.pod, w.container.Name, w.key.kind, res, w.m.cfg.Clock.Since(start))
	if res == w.lastResult {
		w.resultRun++
	} else {
		w.lastResult, w.resultRun = res, 1
	}
	if res == Failure && w.resultRun < threshold(w.spec.FailureThreshold, defaultFailureThreshold) ||
		res == Success && w.resultRun < threshold(w.spec.SuccessThreshold, defaultSuccessThreshold) {
		return
	}
	w.m.results.Set(ctx, w.key.kind, w.containerID, w.pod.UID, res)
	if w.key.kind == Startup || w.key.kind == Liveness && res == Failure {
		// The container has started, or will be restarted: nothing to
		// probe until its next instance.
		w.onHold, w.resultRun = true, 0
	}
}

// containerStatus finds a container's status among the app containers,
// then the init containers.
func containerStatus(s corev1.PodStatus, name string) (corev1.ContainerStatus, bool) {
	for _, list := range [][]corev1.ContainerStatus{s.ContainerStatuses, s.InitContainerStatuses} {
		for _, c := range list {
			if c.Name == name && c.ContainerID != "" {
				return c, true
			}
		}
	}
	return corev1.ContainerStatus{}, false
}

// runtimeID strips the runtime's name from a status's container id
// ("containerd://abc" is "abc").
func runtimeID(id string) string {
	if _, after, ok := strings.Cut(id, "://"); ok {
		return after
	}
	return id
}
