package endpoints

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestSubsetsReadyAndNotReady(t *testing.T) {
	pods := []*corev1.Pod{testPod("b", "10.244.0.3", notReady), testPod("a", "10.244.0.2"),
		testPod("done", "10.244.0.4", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
		testPod("noip", ""), testPod("going", "10.244.0.5", terminating),
		testPod("other", "10.244.0.6", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "db"} }),
		testPod("v6", "fd00::6")}
	got, truncated := Subsets(testService(), pods, MaxCapacity)
	if truncated || len(got) != 1 {
		t.Fatalf("subsets %+v truncated %v", got, truncated)
	}
	ss := got[0]
	if !slices.Equal(ips(ss.Addresses), []string{"10.244.0.2"}) || !slices.Equal(ips(ss.NotReadyAddresses), []string{"10.244.0.3"}) {
		t.Fatalf("ready %v notReady %v", ips(ss.Addresses), ips(ss.NotReadyAddresses))
	}
	a := ss.Addresses[0]
	if a.TargetRef.Kind != "Pod" || a.TargetRef.Name != "a" || a.TargetRef.UID != "uid-a" || a.NodeName == nil || *a.NodeName != "n1" || a.Hostname != "" {
		t.Errorf("address %+v", a)
	}
	want := []corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}}
	if !slices.Equal(ss.Ports, want) {
		t.Errorf("ports %+v", ss.Ports)
	}

	// publishNotReadyAddresses: every pod is ready, terminating ones too.
	svc := testService(func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true })
	got, _ = Subsets(svc, pods, MaxCapacity)
	if len(got) != 1 || !slices.Equal(ips(got[0].Addresses), []string{"10.244.0.2", "10.244.0.3", "10.244.0.5"}) || len(got[0].NotReadyAddresses) != 0 {
		t.Fatalf("publishNotReadyAddresses: %+v", got)
	}
}

func TestSubsetsHostname(t *testing.T) {
	withHost := func(sub string) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "db-0", sub }
	}
	got, _ := Subsets(testService(), []*corev1.Pod{testPod("a", "10.244.0.2", withHost("web")), testPod("b", "10.244.0.3", withHost("other"))}, MaxCapacity)
	if h := got[0].Addresses; h[0].Hostname != "db-0" || h[1].Hostname != "" {
		t.Fatalf("hostnames %q %q", h[0].Hostname, h[1].Hostname)
	}
}

func TestSubsetsNamedPorts(t *testing.T) {
	svc := testService(func(s *corev1.Service) {
		s.Spec.Ports = []corev1.ServicePort{
			{Name: "metrics", Port: 9100, TargetPort: intstr.FromString("metrics")},
			{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}
	})
	withMetrics := func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: 9100})
	}
	udpOnly := func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 53, Protocol: corev1.ProtocolUDP}}
	}
	got, _ := Subsets(svc, []*corev1.Pod{testPod("a", "10.244.0.2", withMetrics), testPod("b", "10.244.0.3"),
		testPod("c", "10.244.0.4", udpOnly)}, MaxCapacity)
	if len(got) != 2 {
		t.Fatalf("want two subsets (c resolves no port), got %+v", got)
	}
	both := []corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}, {Name: "metrics", Port: 9100, Protocol: corev1.ProtocolTCP}}
	httpOnly := both[:1]
	if !slices.Equal(got[0].Ports, httpOnly) || !slices.Equal(ips(got[0].Addresses), []string{"10.244.0.3"}) ||
		!slices.Equal(got[1].Ports, both) || !slices.Equal(ips(got[1].Addresses), []string{"10.244.0.2"}) {
		t.Fatalf("subsets %+v", got)
	}
}

func TestSubsetsWithoutPorts(t *testing.T) {
	pods := []*corev1.Pod{testPod("a", "10.244.0.2")}
	headless := testService(func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.Ports = corev1.ClusterIPNone, nil })
	got, _ := Subsets(headless, pods, MaxCapacity)
	if len(got) != 1 || got[0].Ports != nil || !slices.Equal(ips(got[0].Addresses), []string{"10.244.0.2"}) {
		t.Fatalf("headless without ports: %+v", got)
	}
	got, _ = Subsets(testService(func(s *corev1.Service) { s.Spec.Ports = nil }), pods, MaxCapacity)
	if len(got) != 0 {
		t.Fatalf("a cluster IP service without ports has no addresses, got %+v", got)
	}
}

func TestTruncateKeepsReadyFirst(t *testing.T) {
	count := func(ss []corev1.EndpointSubset) (r, n int) {
		for _, s := range ss {
			r += len(s.Addresses)
			n += len(s.NotReadyAddresses)
		}
		return r, n
	}
	svc := testService()
	got, truncated := Subsets(svc, manyPods(1000), MaxCapacity)
	if r, _ := count(got); truncated || r != 1000 {
		t.Fatalf("1000 pods: %d ready, truncated %v", r, truncated)
	}
	got, truncated = Subsets(svc, manyPods(1001), MaxCapacity)
	if r, _ := count(got); !truncated || r != 1000 {
		t.Fatalf("1001 pods: %d ready, truncated %v", r, truncated)
	}
	pods := append(manyPods(600), manyPods(1200, notReady)[600:]...)
	got, truncated = Subsets(svc, pods, MaxCapacity)
	if r, n := count(got); !truncated || r != 600 || n != 400 {
		t.Fatalf("600 ready + 600 not ready: %d ready %d not ready, truncated %v", r, n, truncated)
	}
	// Over capacity with ready addresses alone: the not ready go, the
	// ready are cut in proportion to each subset's size; no subset is
	// left empty.
	svc = testService(func(s *corev1.Service) {
		s.Spec.Ports[0].TargetPort = intstr.FromString("http")
	})
	pods = manyPods(1500)
	for _, p := range pods[:500] {
		p.Spec.Containers[0].Ports[0].ContainerPort = 9090
	}
	pods = append(pods, testPod("nr", "10.244.9.9", notReady, func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 7070 }))
	got, truncated = Subsets(svc, pods, 30)
	if len(got) != 2 || !truncated {
		t.Fatalf("subsets %d truncated %v", len(got), truncated)
	}
	if a, b := len(got[0].Addresses)+len(got[0].NotReadyAddresses), len(got[1].Addresses)+len(got[1].NotReadyAddresses); a+b != 30 || a != 20 || b != 10 {
		t.Fatalf("shares %d and %d, want 20 (8080) and 10 (9090)", a, b)
	}
}
