package lifecycle

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestGracePeriod(t *testing.T) {
	i64 := func(n int64) *int64 { return &n }
	probe := &corev1.Probe{TerminationGracePeriodSeconds: i64(5)}
	spec := &corev1.Container{Name: "app", LivenessProbe: probe, StartupProbe: &corev1.Probe{TerminationGracePeriodSeconds: i64(7)}}
	for _, tc := range []struct {
		name     string
		podGrace *int64
		deletion *int64
		reason   KillReason
		want     time.Duration
	}{
		{name: "pod's", podGrace: i64(60), want: 60 * time.Second},
		{name: "unset: 30 s", want: 30 * time.Second},
		{name: "liveness probe's", podGrace: i64(60), reason: KillLivenessProbe, want: 5 * time.Second},
		{name: "startup probe's", podGrace: i64(60), reason: KillStartupProbe, want: 7 * time.Second},
		{name: "deletion wins", podGrace: i64(60), deletion: i64(10), reason: KillLivenessProbe, want: 10 * time.Second},
		{name: "negative is zero", podGrace: i64(-1), want: 0},
	} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{TerminationGracePeriodSeconds: tc.podGrace}}
		pod.DeletionGracePeriodSeconds = tc.deletion
		if got := GracePeriod(pod, spec, tc.reason); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// A probe without its own grace period: the pod's.
	bare := &corev1.Container{LivenessProbe: &corev1.Probe{}}
	pod := &corev1.Pod{Spec: corev1.PodSpec{TerminationGracePeriodSeconds: i64(20)}}
	if got := GracePeriod(pod, bare, KillLivenessProbe); got != 20*time.Second {
		t.Errorf("liveness without a probe grace: %v", got)
	}
}

func TestStopTimeout(t *testing.T) {
	for _, tc := range []struct{ grace, used, want time.Duration }{
		{30 * time.Second, 5 * time.Second, 25 * time.Second},
		{30 * time.Second, 29 * time.Second, 2 * time.Second},
		{30 * time.Second, 40 * time.Second, 2 * time.Second},
		{0, 0, 2 * time.Second},
	} {
		if got := StopTimeout(tc.grace, tc.used); got != tc.want {
			t.Errorf("StopTimeout(%v, %v) = %v, want %v", tc.grace, tc.used, got, tc.want)
		}
	}
}
