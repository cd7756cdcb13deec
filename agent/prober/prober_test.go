package prober

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
)

// scripted is a handler that returns its outcomes in turn.
type scripted struct {
	outs  []scriptedRun
	calls int
}

type scriptedRun struct {
	out    outcome
	output string
	err    error
}

func (s *scripted) run(context.Context, target, *corev1.Probe) (outcome, string, error) {
	r := s.outs[min(s.calls, len(s.outs)-1)]
	s.calls++
	return r.out, r.output, r.err
}

func TestProbeResultsAndEvents(t *testing.T) {
	boom := errors.New("exec in container c1: it is not running")
	for _, tc := range []struct {
		name      string
		kind      Kind
		runs      []scriptedRun
		want      Result
		wantErr   bool
		wantCalls int
		wantEvent []string
	}{
		{name: "success", kind: Readiness, runs: []scriptedRun{{out: outcomeSuccess, output: "ok"}}, want: Success, wantCalls: 1},
		{name: "failure", kind: Readiness, runs: []scriptedRun{{out: outcomeFailure, output: "HTTP probe failed with statuscode: 503"}}, want: Failure, wantCalls: 1,
			wantEvent: []string{"Warning Unhealthy Readiness probe failed: HTTP probe failed with statuscode: 503"}},
		{name: "warning is success", kind: Liveness, runs: []scriptedRun{{out: outcomeWarning, output: "Probe terminated redirects, Response body: x"}}, want: Success, wantCalls: 1,
			wantEvent: []string{"Warning ProbeWarning Liveness probe warning: Probe terminated redirects, Response body: x"}},
		{name: "unknown without error", kind: Startup, runs: []scriptedRun{{out: outcomeUnknown}}, want: Failure, wantCalls: 1},
		{name: "error retried three times", kind: Liveness, runs: []scriptedRun{{out: outcomeUnknown, err: boom}}, want: Failure, wantErr: true, wantCalls: 3,
			wantEvent: []string{"Warning Unhealthy Liveness probe errored and resulted in unknown state: exec in container c1: it is not running"}},
		{name: "error then success", kind: Liveness, runs: []scriptedRun{{out: outcomeUnknown, err: boom}, {out: outcomeSuccess}}, want: Success, wantCalls: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &scripted{outs: tc.runs}
			rec := record.NewFakeRecorder(10)
			pb := &prober{handlers: handlers{exec: h}, recorder: rec, log: slog.New(slog.DiscardHandler)}
			pod := testPod(corev1.Container{})
			got, err := pb.probe(context.Background(), tc.kind, target{pod: pod, container: &pod.Spec.Containers[0]}, execProbe("true"))
			if got != tc.want || (err != nil) != tc.wantErr || h.calls != tc.wantCalls {
				t.Fatalf("got %v, %v after %d runs; want %v, error %v after %d", got, err, h.calls, tc.want, tc.wantErr, tc.wantCalls)
			}
			if events := drainEvents(rec); !reflect.DeepEqual(events, tc.wantEvent) {
				t.Fatalf("events %q, want %q", events, tc.wantEvent)
			}
		})
	}
}

func TestProbeWithoutHandlerErrors(t *testing.T) {
	pb := &prober{recorder: record.NewFakeRecorder(10), log: slog.New(slog.DiscardHandler)}
	pod := testPod(corev1.Container{})
	if _, err := pb.probe(context.Background(), Liveness, target{pod: pod, container: &pod.Spec.Containers[0]}, &corev1.Probe{}); err == nil {
		t.Fatal("a probe with no action: no error")
	}
}

func TestContainerRefNamesTheContainer(t *testing.T) {
	pod := testPod(corev1.Container{})
	pod.Spec.InitContainers = []corev1.Container{{Name: "proxy"}}
	if got := ContainerRef(pod, &pod.Spec.Containers[0]).FieldPath; got != "spec.containers{app}" {
		t.Errorf("app: %s", got)
	}
	if got := ContainerRef(pod, &pod.Spec.InitContainers[0]).FieldPath; got != "spec.initContainers{proxy}" {
		t.Errorf("sidecar: %s", got)
	}
}
