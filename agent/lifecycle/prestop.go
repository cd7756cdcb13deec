package lifecycle

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/prober"
)

// PreStop runs the container's preStop hook, if it has one and grace is
// positive, for at most grace: then the hook is cancelled (an exec is
// killed, a sleep ends). It returns the time the hook took, which the
// caller takes off the grace period of the stop signal (StopTimeout). A
// failed hook is recorded as FailedPreStopHook ("PreStopHook failed") on
// the container; the container is stopped all the same.
func (h *Hooks) PreStop(ctx context.Context, c Container, grace time.Duration) time.Duration {
	if c.Spec.Lifecycle == nil || c.Spec.Lifecycle.PreStop == nil || grace <= 0 {
		return 0
	}
	start := h.cfg.Clock.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := h.run(ctx, c, c.Spec.Lifecycle.PreStop)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-h.cfg.Clock.After(grace):
		h.cfg.Log.Info("preStop hook did not complete in the grace period", "pod", c.Pod.Namespace+"/"+c.Pod.Name,
			"container", c.Spec.Name, "grace", grace)
		cancel()
		<-done // cancelled: an exec is killed, a request or sleep ends
		return h.cfg.Clock.Since(start)
	}
	if err != nil {
		h.cfg.Log.Info("preStop hook failed", "pod", c.Pod.Namespace+"/"+c.Pod.Name, "container", c.Spec.Name, "err", err)
		h.event(prober.ContainerRef(c.Pod, c.Spec), corev1.EventTypeWarning, ReasonFailedPreStopHook, "PreStopHook failed")
	}
	return h.cfg.Clock.Since(start)
}
