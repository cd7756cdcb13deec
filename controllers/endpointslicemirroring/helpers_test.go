package endpointslicemirroring

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// external is a Service without a selector.
func external(change ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default", UID: "svc-uid"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.20", Ports: []corev1.ServicePort{{Name: "pg", Port: 5432}}}}
	for _, c := range change {
		c(s)
	}
	return s
}

// handWritten are Endpoints as a user writes them for external.
func handWritten(change ...func(*corev1.Endpoints)) *corev1.Endpoints {
	node := "n1"
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default",
		Labels: map[string]string{"team": "data"}, Annotations: map[string]string{"note": "primary",
			corev1.EndpointsLastChangeTriggerTime: "2026-12-06T09:00:00Z"}},
		Subsets: []corev1.EndpointSubset{{
			Addresses:         []corev1.EndpointAddress{{IP: "192.0.2.10", Hostname: "db-0", NodeName: &node}},
			NotReadyAddresses: []corev1.EndpointAddress{{IP: "192.0.2.11"}},
			Ports:             []corev1.EndpointPort{{Name: "pg", Port: 5432, Protocol: corev1.ProtocolTCP}}}}}
	for _, c := range change {
		c(ep)
	}
	return ep
}

func withAddresses(n int) func(*corev1.Endpoints) {
	return func(ep *corev1.Endpoints) {
		ep.Subsets[0].Addresses = nil
		for i := range n {
			ep.Subsets[0].Addresses = append(ep.Subsets[0].Addresses, corev1.EndpointAddress{IP: fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)})
		}
	}
}

// endpointIPs lists a slice's addresses with their ready condition.
func endpointIPs(s *discoveryv1.EndpointSlice) []string {
	var out []string
	for _, e := range s.Endpoints {
		out = append(out, fmt.Sprintf("%s=%v", e.Addresses[0], *e.Conditions.Ready))
	}
	return out
}
