package prober

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
)

// fakeMetrics records what the prober reports, one line a call.
type fakeMetrics struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeMetrics) ObserveProbe(pod *corev1.Pod, container string, kind Kind, res Result, took time.Duration) {
	f.record(fmt.Sprintf("observe %s/%s %s %s %s", pod.Namespace, pod.Name, container, kind, res))
}

func (f *fakeMetrics) ForgetProbe(pod *corev1.Pod, container string, kind Kind) {
	f.record(fmt.Sprintf("forget %s/%s %s %s", pod.Namespace, pod.Name, container, kind))
}

func (f *fakeMetrics) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeMetrics) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// TestMetricsCountProbesThatRan: each probe that ran is counted with its
// result, one that could not run is not (as kubelet's), and the series go
// when the worker ends.
func TestMetricsCountProbesThatRan(t *testing.T) {
	fm := &fakeMetrics{}
	h := &harness{exec: &fakeExec{}, status: newFakeStatus(), clock: clocktesting.NewFakeClock(t0), events: record.NewFakeRecorder(100)}
	m, err := New(Config{Exec: h.exec, Status: h.status, Clock: h.clock, Recorder: h.events, Metrics: fm, Jitter: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	h.m = m
	p := execProbe("check")
	p.FailureThreshold = 1
	pod := testPod(corev1.Container{ReadinessProbe: p})
	h.status.set(pod.UID, started(running(pod, "10.244.0.5", t0, "c1")))
	m.AddPod(pod)
	eventually(t, "the first probe counted", func() bool { return len(fm.seen()) == 1 })

	h.exec.setResult(1, "down", nil)
	h.clock.Step(10 * time.Second)
	eventually(t, "the failure counted", func() bool { return len(fm.seen()) == 2 })

	h.exec.setResult(0, "", errors.New("runtime gone"))
	h.clock.Step(10 * time.Second)
	eventually(t, "the errored probe's retries", func() bool { return h.exec.count() == 2+maxRetries })

	m.RemovePod(pod.UID)
	eventually(t, "the worker to end", func() bool { return workerCount(m) == 0 })
	want := []string{
		"observe default/web app Readiness Success",
		"observe default/web app Readiness Failure",
		"forget default/web app Readiness",
	}
	if got := fm.seen(); !slices.Equal(got, want) {
		t.Fatalf("metrics calls:\n got %q\nwant %q", got, want)
	}
}
