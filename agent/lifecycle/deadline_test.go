package lifecycle

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestActiveDeadline(t *testing.T) {
	i64 := func(n int64) *int64 { return &n }
	start := metav1.NewTime(t0)
	for _, tc := range []struct {
		name     string
		deadline *int64
		start    *metav1.Time
		now      time.Time
		wantLeft time.Duration
		wantOK   bool
		wantPast bool
	}{
		{name: "no deadline", start: &start, now: t0.Add(time.Hour)},
		{name: "not started", deadline: i64(10), now: t0.Add(time.Hour)},
		{name: "zero start", deadline: i64(10), start: &metav1.Time{}, now: t0.Add(time.Hour)},
		{name: "within", deadline: i64(10), start: &start, now: t0.Add(4 * time.Second), wantLeft: 6 * time.Second, wantOK: true},
		{name: "exactly at it", deadline: i64(10), start: &start, now: t0.Add(10 * time.Second), wantOK: true, wantPast: true},
		{name: "past", deadline: i64(10), start: &start, now: t0.Add(15 * time.Second), wantLeft: -5 * time.Second, wantOK: true, wantPast: true},
	} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{ActiveDeadlineSeconds: tc.deadline}}
		left, ok := DeadlineLeft(pod, tc.start, tc.now)
		if left != tc.wantLeft || ok != tc.wantOK || PastActiveDeadline(pod, tc.start, tc.now) != tc.wantPast {
			t.Errorf("%s: left %v ok %v past %v", tc.name, left, ok, PastActiveDeadline(pod, tc.start, tc.now))
		}
	}
	s := corev1.PodStatus{Phase: corev1.PodRunning}
	FailForDeadline(&s)
	if s.Phase != corev1.PodFailed || s.Reason != "DeadlineExceeded" || s.Message != "Pod was active on the node longer than the specified deadline" {
		t.Fatalf("%+v", s)
	}
}
