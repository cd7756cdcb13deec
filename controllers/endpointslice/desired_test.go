package endpointslice

import (
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestDesired(t *testing.T) {
	tests := []struct {
		name string
		svc  *corev1.Service
		pods []*corev1.Pod
		// want: per group, its ports as name=number, then addresses.
		want [][]string
	}{
		{"numeric targetPort", testService(), []*corev1.Pod{testPod("a", "10.244.0.2"), testPod("b", "10.244.0.3")},
			[][]string{{"http=8080", "10.244.0.2", "10.244.0.3"}}},
		{"not matching, finished, no IP and IPv6-only pods are left out", testService(), []*corev1.Pod{
			testPod("a", "10.244.0.2"),
			testPod("other", "10.244.0.3", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "db"} }),
			testPod("done", "10.244.0.4", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
			testPod("failed", "10.244.0.5", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }),
			testPod("noip", ""),
			testPod("v6", "fd00::1"),
			testPod("elsewhere", "10.244.0.6", func(p *corev1.Pod) { p.Namespace = "other" }),
		}, [][]string{{"http=8080", "10.244.0.2"}}},
		{"named port resolved per pod", testService(namedTarget("http")), []*corev1.Pod{
			testPod("a", "10.244.0.2"), testPod("b", "10.244.0.3", containerPort(9090)), testPod("c", "10.244.0.4"),
		}, [][]string{{"http=8080", "10.244.0.2", "10.244.0.4"}, {"http=9090", "10.244.0.3"}}},
		// A pod that lacks one named port keeps the others (a rollout that
		// drops the metrics port still serves http).
		{"pod without one named port keeps the rest", twoPorts(), []*corev1.Pod{
			testPod("a", "10.244.0.2", withMetrics), testPod("b", "10.244.0.3"),
		}, [][]string{{"http=8080", "10.244.0.3"}, {"http=8080", "metrics=9100", "10.244.0.2"}}},
		{"pod with only the second named port", twoPorts(), []*corev1.Pod{
			testPod("a", "10.244.0.2", withMetrics, func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Name = "other" }),
		}, [][]string{{"metrics=9100", "10.244.0.2"}}},
		// As kube: resolving no port at all still gives an endpoint, in a
		// group with no ports.
		{"pod resolving no port", testService(namedTarget("http")), []*corev1.Pod{
			testPod("a", "10.244.0.2"),
			testPod("lacks", "10.244.0.5", func(p *corev1.Pod) { p.Spec.Containers[0].Ports = nil }),
		}, [][]string{{"10.244.0.5"}, {"http=8080", "10.244.0.2"}}},
		{"headless without ports", testService(func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.Ports = corev1.ClusterIPNone, nil }),
			[]*corev1.Pod{testPod("a", "10.244.0.2")}, [][]string{{"10.244.0.2"}}},
		{"no pods", testService(), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Desired(tt.svc, tt.pods)
			if len(got) != len(tt.want) {
				t.Fatalf("%d groups, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, g := range got {
				var have []string
				for _, p := range g.Ports {
					have = append(have, *p.Name+"="+itoa(*p.Port))
				}
				for _, ep := range g.Endpoints {
					have = append(have, ep.Addresses[0])
				}
				if !equal(have, tt.want[i]) {
					t.Errorf("group %d: %v, want %v", i, have, tt.want[i])
				}
			}
		})
	}
}

func TestEndpointConditions(t *testing.T) {
	cases := []struct {
		name                          string
		pod                           *corev1.Pod
		publish                       bool
		ready, serving, terminatingOK bool
	}{
		{"ready", testPod("a", "10.244.0.2"), false, true, true, false},
		{"not ready", testPod("a", "10.244.0.2", notReady), false, false, false, false},
		{"terminating while ready", testPod("a", "10.244.0.2", terminating), false, false, true, true},
		{"terminating not ready", testPod("a", "10.244.0.2", terminating, notReady), false, false, false, true},
		{"publishNotReadyAddresses", testPod("a", "10.244.0.2", notReady), true, true, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc := testService(func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = c.publish })
			g := Desired(svc, []*corev1.Pod{c.pod})
			ep := g[0].Endpoints[0]
			cond := ep.Conditions
			if *cond.Ready != c.ready || *cond.Serving != c.serving || *cond.Terminating != c.terminatingOK {
				t.Errorf("ready=%v serving=%v terminating=%v", *cond.Ready, *cond.Serving, *cond.Terminating)
			}
			if *ep.NodeName != "n1" || ep.TargetRef.Kind != "Pod" || ep.TargetRef.Name != "a" || ep.TargetRef.UID != "uid-a" || ep.TargetRef.Namespace != "default" {
				t.Errorf("nodeName/targetRef: %+v %+v", ep.NodeName, ep.TargetRef)
			}
			if p := g[0].Ports[0]; *p.Name != "http" || *p.Protocol != corev1.ProtocolTCP {
				t.Errorf("port: %+v", p)
			}
		})
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
