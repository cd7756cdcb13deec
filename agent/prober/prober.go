package prober

import (
	"context"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
)

// maxRetries is how often a probe that cannot be run at all is retried
// within one period (kubelet's maxProbeRetries).
const maxRetries = 3

// prober runs one probe and turns its outcome into a result and events.
type prober struct {
	handlers handlers
	recorder Recorder
	log      *slog.Logger
}

// probe runs p for t. A non-nil error means the probe could not be run:
// the caller keeps the previous result.
func (pb *prober) probe(ctx context.Context, kind Kind, t target, p *corev1.Probe) (Result, error) {
	out, output, err := pb.runWithRetries(ctx, t, p)
	if ctx.Err() != nil {
		return Failure, ctx.Err() // stopping: no event
	}
	if err != nil {
		pb.log.Debug("probe errored", "kind", kind, "pod", t.pod.Namespace+"/"+t.pod.Name, "container", t.container.Name, "err", err)
		recordWarning(pb.recorder, t, ReasonUnhealthy, "%s probe errored and resulted in %s state: %s", kind, out, err)
		return Failure, err
	}
	switch out {
	case outcomeSuccess:
		return Success, nil
	case outcomeWarning:
		recordWarning(pb.recorder, t, ReasonProbeWarning, "%s probe warning: %s", kind, output)
		return Success, nil
	case outcomeFailure:
		pb.log.Debug("probe failed", "kind", kind, "pod", t.pod.Namespace+"/"+t.pod.Name, "container", t.container.Name, "output", output)
		recordWarning(pb.recorder, t, ReasonUnhealthy, "%s probe failed: %s", kind, output)
	}
	return Failure, nil
}

// runWithRetries runs the probe until it runs at all, at most maxRetries
// times, and returns the last outcome.
func (pb *prober) runWithRetries(ctx context.Context, t target, p *corev1.Probe) (outcome, string, error) {
	h, err := pb.handlers.pick(p)
	if err != nil {
		return outcomeUnknown, "", err
	}
	var out outcome
	var output string
	for range maxRetries {
		if out, output, err = h.run(ctx, t, p); err == nil || ctx.Err() != nil {
			break
		}
	}
	return out, output, err
}
