package endpointslice

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func testService(change ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "svc-uid"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, ClusterIP: "10.96.0.10",
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}}}}
	for _, c := range change {
		c(s)
	}
	return s
}

func namedTarget(name string) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString(name) }
}

// twoPorts: http to targetPort "http", metrics to targetPort "metrics".
func twoPorts() *corev1.Service {
	return testService(namedTarget("http"), func(s *corev1.Service) {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "metrics", Port: 9100,
			Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("metrics")})
	})
}

// withMetrics gives the pod a "metrics" container port 9100.
func withMetrics(p *corev1.Pod) {
	c := &p.Spec.Containers[0]
	c.Ports = append(c.Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: 9100, Protocol: corev1.ProtocolTCP})
}

func testPod(name, ip string, change ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name),
		Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	for _, c := range change {
		c(p)
	}
	return p
}

func notReady(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }

func terminating(p *corev1.Pod) {
	now := metav1.Now()
	p.DeletionTimestamp = &now
}

func containerPort(n int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = n }
}

func pods(n int) []*corev1.Pod {
	out := make([]*corev1.Pod, n)
	for i := range out {
		out[i] = testPod(fmt.Sprintf("p%03d", i), fmt.Sprintf("10.244.%d.%d", i/250, i%250+1))
	}
	return out
}

// addrs lists a slice's endpoint addresses.
func addrs(s *discoveryv1.EndpointSlice) []string {
	var out []string
	for _, ep := range s.Endpoints {
		out = append(out, ep.Addresses[0])
	}
	return out
}

// named gives planned creates names, as the API server would.
func named(a Actions) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for i, s := range a.Create {
		s = s.DeepCopy()
		s.Name = fmt.Sprintf("%s%d", s.GenerateName, i)
		out = append(out, s)
	}
	return append(out, a.Update...)
}

// summary prints actions briefly: name (or generateName) and endpoint count.
func summary(a Actions) string {
	line := func(what string, ss []*discoveryv1.EndpointSlice) string {
		out := what + ":"
		for _, s := range ss {
			out += fmt.Sprintf(" %s%s(%d)", s.Name, s.GenerateName, len(s.Endpoints))
		}
		return out + " "
	}
	return line("create", a.Create) + line("update", a.Update) + line("delete", a.Delete)
}
