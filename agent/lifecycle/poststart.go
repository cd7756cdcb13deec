package lifecycle

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/prober"
)

// Event reasons and the status reason, as kubelet's.
const (
	ReasonFailedPostStartHook = "FailedPostStartHook"
	ReasonFailedPreStopHook   = "FailedPreStopHook"
	// ReasonPostStartHookError is the waiting reason of a container whose
	// postStart hook failed.
	ReasonPostStartHookError = "PostStartHookError"
)

// HookError is a postStart hook's failure: Message is kubelet's (it may
// hold the hook's output, so it goes into the container's status, not an
// event).
type HookError struct {
	Reason, Message string
	Err             error
}

func (e *HookError) Error() string { return e.Message }
func (e *HookError) Unwrap() error { return e.Err }

// PostStart runs the container's postStart hook, if it has one, right
// after the container started; the container is not running for the pod
// until it returns. On failure it records FailedPostStartHook ("PostStartHook
// failed") on the container and returns a *HookError; the caller then kills
// the container (a "Killing" event with message FailedPostStartHook) and
// shows ReasonPostStartHookError with the message in its waiting state.
func (h *Hooks) PostStart(ctx context.Context, c Container) error {
	if c.Spec.Lifecycle == nil || c.Spec.Lifecycle.PostStart == nil {
		return nil
	}
	msg, err := h.run(ctx, c, c.Spec.Lifecycle.PostStart)
	if err == nil {
		return nil
	}
	h.cfg.Log.Info("postStart hook failed", "pod", c.Pod.Namespace+"/"+c.Pod.Name, "container", c.Spec.Name, "err", err)
	h.event(prober.ContainerRef(c.Pod, c.Spec), corev1.EventTypeWarning, ReasonFailedPostStartHook, "PostStartHook failed")
	return &HookError{Reason: ReasonPostStartHookError, Message: msg, Err: err}
}
