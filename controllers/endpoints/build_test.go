package endpoints

import (
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBuildLabelsAndAnnotations(t *testing.T) {
	svc := testService(func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone })
	subsets, _ := Subsets(svc, []*corev1.Pod{testPod("a", "10.244.0.2")}, MaxCapacity)
	at := time.Date(2026, 12, 6, 9, 0, 0, 5, time.UTC)
	ep := Build(svc, subsets, true, nil, at)
	want := map[string]string{"tier": "front", LabelManagedBy: ControllerName,
		"endpointslice.kubernetes.io/skip-mirror": "true", "service.kubernetes.io/headless": ""}
	if ep.Name != "web" || ep.Namespace != "default" || !maps.Equal(ep.Labels, want) {
		t.Fatalf("meta %+v", ep.ObjectMeta)
	}
	wantAnn := map[string]string{"endpoints.kubernetes.io/over-capacity": "truncated",
		"endpoints.kubernetes.io/last-change-trigger-time": "2026-12-06T09:00:00.000000005Z"}
	if !maps.Equal(ep.Annotations, wantAnn) {
		t.Fatalf("annotations %v", ep.Annotations)
	}

	// The service is no longer headless, nothing is truncated: the label
	// and the capacity annotation go, a user's annotation stays, and a
	// zero trigger time drops the old one.
	cur := ep.DeepCopy()
	cur.Annotations["note"] = "mine"
	svc.Spec.ClusterIP = "10.96.0.10"
	next := Build(svc, subsets, false, cur, time.Time{})
	if _, ok := next.Labels["service.kubernetes.io/headless"]; ok {
		t.Errorf("headless label kept: %v", next.Labels)
	}
	if !maps.Equal(next.Annotations, map[string]string{"note": "mine"}) {
		t.Errorf("annotations %v", next.Annotations)
	}
	if !NeedsWrite(cur, next) {
		t.Error("changed labels not written")
	}
}

func TestNeedsWriteIgnoresTriggerTimeAlone(t *testing.T) {
	svc := testService()
	subsets, _ := Subsets(svc, []*corev1.Pod{testPod("a", "10.244.0.2")}, MaxCapacity)
	cur := Build(svc, subsets, false, nil, time.Now())
	if NeedsWrite(cur, Build(svc, subsets, false, cur, time.Now().Add(time.Minute))) {
		t.Error("a new trigger time alone is written")
	}
	if !NeedsWrite(nil, cur) {
		t.Error("a missing Endpoints is not created")
	}
	other, _ := Subsets(svc, []*corev1.Pod{testPod("a", "10.244.0.2", notReady)}, MaxCapacity)
	if !NeedsWrite(cur, Build(svc, other, false, cur, time.Time{})) {
		t.Error("changed subsets not written")
	}
}

func TestTriggerTimeIsTheEarliestUnseenChange(t *testing.T) {
	base := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	readyAt := func(d time.Duration) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(base.Add(d)) }
	}
	svc := testService(func(s *corev1.Service) { s.CreationTimestamp = metav1.NewTime(base.Add(time.Second)) })
	tt := newTriggerTimes()
	a, b := testPod("a", "10.244.0.2", readyAt(3*time.Second)), testPod("b", "10.244.0.3", readyAt(2*time.Second))
	if got := tt.next("default/web", svc, []*corev1.Pod{a, b}); !got.Equal(base.Add(time.Second)) {
		t.Fatalf("first sync: %v, want the service's creation", got)
	}
	if got := tt.next("default/web", svc, []*corev1.Pod{a, b}); !got.IsZero() {
		t.Fatalf("nothing changed: %v", got)
	}
	a = testPod("a", "10.244.0.2", notReady, readyAt(5*time.Second))
	c := testPod("c", "10.244.0.4", readyAt(4*time.Second))
	if got := tt.next("default/web", svc, []*corev1.Pod{a, b, c}); !got.Equal(base.Add(4 * time.Second)) {
		t.Fatalf("a and c changed: %v, want c's", got)
	}
	tt.forget("default/web")
	if got := tt.next("default/web", svc, []*corev1.Pod{a}); !got.Equal(base.Add(time.Second)) {
		t.Fatalf("after forget: %v", got)
	}
}
