// Package lifecycle holds what kubelet does around a container's start and
// stop, as small parts the agent calls:
//
//   - Hooks run postStart (after the container started; a failure is a
//     FailedPostStartHook event and a PostStartHookError for the caller to
//     kill the container with) and preStop (before the stop signal, cut at
//     the grace period) handlers: exec through the runtime, httpGet through
//     an injected dialer from the node's network namespace, sleep on an
//     injected clock.
//   - GracePeriod and StopTimeout: the time a container gets to stop
//     (deletion, probe-level terminationGracePeriodSeconds, the pod's; at
//     least 2 s for the signal).
//   - TerminationMessage, TrimMessages and the message file: what goes into
//     state.terminated.message (terminationMessagePath, FallbackToLogsOnError)
//     within kubelet's limits.
//   - DeadlineLeft, PastActiveDeadline, FailForDeadline: activeDeadlineSeconds.
//   - PlanInit, StopPrereqs and Ordering: sidecars (restartable init
//     containers) start in order, each gated by its startup probe, before
//     app containers; they stop after the app containers, in reverse order.
//
// The decisions are pure functions; Hooks and Ordering are the only parts
// that wait, on the injected clock.
package lifecycle
