package scheduler

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestWithUnschedulable(t *testing.T) {
	t0, t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)
	cond := func(status corev1.ConditionStatus, reason, msg string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: status, Reason: reason,
				Message: msg, LastTransitionTime: metav1.NewTime(t0)}}
		}
	}
	tests := []struct {
		name        string
		pod         *corev1.Pod
		wantChanged bool
		wantTime    time.Time
	}{
		{"no condition yet", pod("p", "", ""), true, t1},
		{"same message: nothing to write", pod("p", "", "", cond(corev1.ConditionFalse, "Unschedulable", "m")), false, t0},
		{"new message keeps transition time", pod("p", "", "", cond(corev1.ConditionFalse, "Unschedulable", "old")), true, t0},
		{"status flips", pod("p", "", "", cond(corev1.ConditionTrue, "", "")), true, t1},
	}
	for _, tt := range tests {
		got, changed := withUnschedulable(tt.pod, "m", t1)
		if changed != tt.wantChanged {
			t.Errorf("%s: changed = %v", tt.name, changed)
		}
		c := got.Status.Conditions
		if len(c) != 1 || c[0].Status != corev1.ConditionFalse || c[0].Reason != corev1.PodReasonUnschedulable ||
			c[0].Message != "m" || !c[0].LastTransitionTime.Time.Equal(tt.wantTime) {
			t.Errorf("%s: conditions = %+v", tt.name, c)
		}
	}
}

func TestNewEvent(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := newEvent(pod("web", "", ""), "web.1", "default-scheduler", corev1.EventTypeWarning, ReasonFailedScheduling, "m", now)
	ref := ev.InvolvedObject
	if ev.Namespace != "default" || ref.Kind != "Pod" || ref.Name != "web" || ref.Namespace != "default" || ref.UID != "uid-web" ||
		ev.Source.Component != "default-scheduler" || ev.Count != 1 || !ev.LastTimestamp.Time.Equal(now) || !ev.EventTime.IsZero() {
		t.Errorf("event = %+v", ev)
	}
}

func TestNeedsScheduling(t *testing.T) {
	deleting := metav1.NewTime(time.Unix(1, 0))
	tests := []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{
		{"pending", pod("p", "", ""), true},
		{"bound", pod("p", "", "", onNode("n")), false},
		{"other scheduler", pod("p", "", "", func(p *corev1.Pod) { p.Spec.SchedulerName = "other" }), false},
		{"deleting", pod("p", "", "", func(p *corev1.Pod) { p.DeletionTimestamp = &deleting }), false},
		{"failed", pod("p", "", "", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }), false},
		{"gated", pod("p", "", "", func(p *corev1.Pod) { p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "x"}} }), false},
	}
	for _, tt := range tests {
		if got := needsScheduling(tt.pod, DefaultSchedulerName); got != tt.want {
			t.Errorf("%s: needsScheduling = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSchedulingChanged(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*corev1.Node)
		want bool
	}{
		{"heartbeat only", func(n *corev1.Node) { n.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(time.Unix(9, 0)) }, false},
		{"ready flips", func(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse }, true},
		{"cordoned", func(n *corev1.Node) { n.Spec.Unschedulable = true }, true},
		{"label", labeled("zone", "a"), true},
		{"taint", tainted(corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule}), true},
		{"allocatable", func(n *corev1.Node) { n.Status.Allocatable = resources("8", "8Gi", "20Gi", "110") }, true},
	}
	for _, tt := range tests {
		if got := schedulingChanged(node("n"), node("n", tt.mod)); got != tt.want {
			t.Errorf("%s: schedulingChanged = %v, want %v", tt.name, got, tt.want)
		}
	}
}
