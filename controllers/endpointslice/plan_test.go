package endpointslice

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// plan runs Desired and Plan.
func plan(svc *corev1.Service, ps []*corev1.Pod, existing []*discoveryv1.EndpointSlice) Actions {
	return Plan(svc, Desired(svc, ps), existing, MaxEndpointsPerSlice)
}

func TestPlanCreatesLabelledOwnedSlices(t *testing.T) {
	svc := testService(func(s *corev1.Service) { s.Labels = map[string]string{"team": "a"} })
	a := plan(svc, pods(2), nil)
	if len(a.Create) != 1 || len(a.Update)+len(a.Delete) != 0 {
		t.Fatalf("%s", summary(a))
	}
	s := a.Create[0]
	if s.GenerateName != "web-" || s.Namespace != "default" || s.AddressType != discoveryv1.AddressTypeIPv4 ||
		s.Labels[discoveryv1.LabelServiceName] != "web" || s.Labels[discoveryv1.LabelManagedBy] != ManagedBy || s.Labels["team"] != "a" {
		t.Fatalf("slice meta: %+v", s.ObjectMeta)
	}
	if o := s.OwnerReferences; len(o) != 1 || o[0].Kind != "Service" || o[0].UID != "svc-uid" || !*o[0].Controller {
		t.Fatalf("owner: %+v", o)
	}
	if !equal(addrs(s), []string{"10.244.0.1", "10.244.0.2"}) {
		t.Fatalf("endpoints %v", addrs(s))
	}
	// Planning again against the result changes nothing.
	if again := plan(svc, pods(2), named(a)); !again.Empty() {
		t.Fatalf("not stable: %s", summary(again))
	}
}

func TestPlanSplitsAtMaxAndKeepsEndpointsInPlace(t *testing.T) {
	svc := testService()
	ps := pods(250)
	first := plan(svc, ps, nil)
	if len(first.Create) != 3 || len(first.Create[0].Endpoints) != 100 || len(first.Create[2].Endpoints) != 50 {
		t.Fatalf("%d creates", len(first.Create))
	}
	existing := named(first)
	// One pod goes, one becomes not ready, two come: updates in place, the
	// newcomers fill the slice with room; no slice is created or deleted.
	ps = append(ps[1:], testPod("new1", "10.244.9.1"), testPod("new2", "10.244.9.2"))
	ps[50] = testPod(ps[50].Name, ps[50].Status.PodIP, notReady)
	a := plan(svc, ps, existing)
	if len(a.Create) != 0 || len(a.Delete) != 0 || len(a.Update) != 2 {
		t.Fatalf("creates %d updates %d deletes %d", len(a.Create), len(a.Update), len(a.Delete))
	}
	total := 0
	for _, s := range a.Update {
		if len(s.Endpoints) > MaxEndpointsPerSlice {
			t.Fatalf("slice %s has %d endpoints", s.Name, len(s.Endpoints))
		}
	}
	byName := map[string]*discoveryv1.EndpointSlice{}
	for _, s := range existing {
		byName[s.Name] = s
	}
	for _, s := range a.Update {
		byName[s.Name] = s
	}
	for _, s := range byName {
		total += len(s.Endpoints)
	}
	if total != 251 {
		t.Fatalf("%d endpoints in all, want 251", total)
	}
}

func TestPlanDeletesEmptiedSlicesAndKeepsAPlaceholder(t *testing.T) {
	svc := testService()
	existing := named(plan(svc, pods(150), nil))
	a := plan(svc, pods(50), existing)
	if len(a.Delete) != 1 || len(a.Update) != 1 || len(a.Create) != 0 || a.Delete[0].Name != "web-1" || len(a.Update[0].Endpoints) != 50 {
		t.Fatalf("shrinking: %s", summary(a))
	}
	a = plan(svc, nil, existing)
	if len(a.Delete) != 1 || len(a.Update) != 1 || len(a.Update[0].Endpoints) != 0 || len(a.Update[0].Ports) != 0 {
		t.Fatalf("no pods: %s", summary(a))
	}
	if a := plan(svc, nil, nil); len(a.Create) != 1 || len(a.Create[0].Endpoints) != 0 {
		t.Fatalf("placeholder for a new service: %s", summary(a))
	}
}

func TestPlanPortChangeReusesSlices(t *testing.T) {
	svc := testService()
	existing := named(plan(svc, pods(3), nil))
	moved := testService(func(s *corev1.Service) { s.Spec.Ports[0].TargetPort.IntVal = 9090 })
	a := plan(moved, pods(3), existing)
	if len(a.Create) != 0 || len(a.Delete) != 0 || len(a.Update) != 1 || a.Update[0].Name != existing[0].Name || *a.Update[0].Ports[0].Port != 9090 {
		t.Fatalf("%s", summary(a))
	}
}

func TestPlanSeparatesPortSets(t *testing.T) {
	svc := testService(namedTarget("http"))
	ps := []*corev1.Pod{testPod("a", "10.244.0.2"), testPod("b", "10.244.0.3", containerPort(9090))}
	a := plan(svc, ps, nil)
	if len(a.Create) != 2 || *a.Create[0].Ports[0].Port == *a.Create[1].Ports[0].Port {
		t.Fatalf("%s", summary(a))
	}
}

// Planning again against what a plan wrote changes nothing, whatever the
// service looks like.
func TestPlanIsStable(t *testing.T) {
	lacksMetrics := testPod("b", "10.244.0.3")
	noPorts := testPod("c", "10.244.0.4", func(p *corev1.Pod) { p.Spec.Containers[0].Ports = nil })
	tests := []struct {
		name string
		svc  *corev1.Service
		pods []*corev1.Pod
	}{
		{"no pods: the placeholder", testService(), nil},
		{"pods", testService(), pods(3)},
		{"more than a slice", testService(), pods(150)},
		{"port sets", twoPorts(), []*corev1.Pod{testPod("a", "10.244.0.2", withMetrics), lacksMetrics, noPorts}},
		{"headless without ports", testService(func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.Ports = corev1.ClusterIPNone, nil }), pods(2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			existing := named(plan(tt.svc, tt.pods, nil))
			if again := plan(tt.svc, tt.pods, existing); !again.Empty() {
				t.Fatalf("second plan writes: %s", summary(again))
			}
		})
	}
}

// A rollout that drops the metrics port: the new pods serve http from a
// slice of their own.
func TestPlanPodsMissingOnePort(t *testing.T) {
	svc := twoPorts()
	a := plan(svc, []*corev1.Pod{testPod("old", "10.244.0.2", withMetrics), testPod("new", "10.244.0.3")}, nil)
	if len(a.Create) != 2 || len(a.Update)+len(a.Delete) != 0 {
		t.Fatalf("%s", summary(a))
	}
	for _, s := range a.Create {
		want := map[string]int{"10.244.0.2": 2, "10.244.0.3": 1}[addrs(s)[0]]
		if len(s.Endpoints) != 1 || len(s.Ports) != want || *s.Ports[0].Name != "http" || *s.Ports[0].Port != 8080 {
			t.Fatalf("slice %v ports %d, want %d with http first", addrs(s), len(s.Ports), want)
		}
	}
}
