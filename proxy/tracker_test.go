package proxy

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func service(name, ip string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: ports, Type: corev1.ServiceTypeClusterIP}}
}

func port(name string, p int32, proto corev1.Protocol) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: p, Protocol: proto, TargetPort: intstr.FromInt32(p)}
}

func slice(svc, name string, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name,
		Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4, Ports: ports, Endpoints: eps}
}

func sport(name string, p int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: ptr.To(name), Port: ptr.To(p), Protocol: ptr.To(corev1.ProtocolTCP)}
}

func endpoint(ip, node string, ready, serving, terminating *bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{ip}, NodeName: ptr.To(node),
		Conditions: discoveryv1.EndpointConditions{Ready: ready, Serving: serving, Terminating: terminating}}
}

func spn(name, port string) ServicePortName {
	return ServicePortName{NamespacedName: types.NamespacedName{Namespace: "default", Name: name}, Port: port, Protocol: corev1.ProtocolTCP}
}

func TestServicePortsSkipHeadlessAndExternalName(t *testing.T) {
	tr := NewTracker("n1")
	tr.UpdateService(service("headless", "None", port("", 80, "")))
	ext := service("ext", "", port("", 80, ""))
	ext.Spec.Type, ext.Spec.ExternalName = corev1.ServiceTypeExternalName, "example.org"
	tr.UpdateService(ext)
	tr.UpdateService(service("web", "10.96.0.10", port("http", 80, ""), port("dns", 53, corev1.ProtocolUDP)))
	s := tr.Snapshot()
	if len(s.Services) != 2 {
		t.Fatalf("want the two ports of web only, got %v", s.Services)
	}
	udp := s.Services[ServicePortName{NamespacedName: spn("web", "").NamespacedName, Port: "dns", Protocol: corev1.ProtocolUDP}]
	if udp == nil || udp.Port != 53 || udp.ClusterIP != netip.MustParseAddr("10.96.0.10") {
		t.Fatalf("udp port: %+v", udp)
	}
	if s.Services[spn("web", "http")].Protocol != corev1.ProtocolTCP {
		t.Fatal("an unset protocol is TCP")
	}
}

func TestServiceOfAnotherProxyIsLeftAlone(t *testing.T) {
	tr := NewTracker("n1")
	svc := service("web", "10.96.0.10", port("", 80, ""))
	tr.UpdateService(svc)
	svc.Labels = map[string]string{LabelServiceProxyName: "other-proxy"}
	tr.UpdateService(svc)
	if s := tr.Snapshot(); len(s.Services) != 0 {
		t.Fatalf("a Service labelled %s must not be programmed: %v", LabelServiceProxyName, s.Services)
	}
}

func TestServicePortPolicies(t *testing.T) {
	svc := service("np", "10.96.0.11", corev1.ServicePort{Port: 80, NodePort: 30080})
	svc.Spec.Type = corev1.ServiceTypeNodePort
	svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	svc.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyLocal)
	svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	svc.Spec.ExternalIPs = []string{"192.0.2.7", "2001:db8::1"}
	sp := servicePorts(svc)[0]
	if sp.NodePort != 30080 || !sp.ExternalLocal || !sp.InternalLocal || sp.AffinityTimeout != 10800 {
		t.Fatalf("got %+v", sp)
	}
	if len(sp.ExternalIPs) != 1 || sp.ExternalIPs[0] != netip.MustParseAddr("192.0.2.7") {
		t.Fatalf("external IPs: %v", sp.ExternalIPs)
	}
	svc.Spec.Type = corev1.ServiceTypeClusterIP // a stale nodePort is not programmed
	svc.Spec.ExternalIPs = nil
	if sp := servicePorts(svc)[0]; sp.NodePort != 0 || sp.ExternalLocal {
		t.Fatalf("ClusterIP service: %+v", sp)
	}
}

func TestSlicesMergeByPortWithConditions(t *testing.T) {
	tr := NewTracker("n1")
	tr.UpdateService(service("web", "10.96.0.10", port("http", 80, "")))
	tru, fal := ptr.To(true), ptr.To(false)
	tr.UpdateSlice(slice("web", "web-a", []discoveryv1.EndpointPort{sport("http", 8080)},
		endpoint("10.244.0.3", "n1", nil, nil, nil), endpoint("10.244.1.2", "n2", fal, tru, tru)))
	tr.UpdateSlice(slice("web", "web-b", []discoveryv1.EndpointPort{sport("http", 8080)},
		endpoint("10.244.0.2", "n1", tru, tru, fal), endpoint("10.244.0.3", "n1", fal, fal, fal)))
	tr.UpdateSlice(slice("web", "web-c", []discoveryv1.EndpointPort{sport("http", 8080)},
		endpoint("10.244.2.2", "n3", tru, tru, tru))) // publishNotReadyAddresses: ready while terminating
	tr.UpdateSlice(slice("other", "other-a", []discoveryv1.EndpointPort{sport("http", 8080)}, endpoint("10.244.9.9", "n1", nil, nil, nil)))
	got := tr.Snapshot().Endpoints[spn("web", "http")]
	want := []string{"10.244.0.2:8080 ready local", "10.244.0.3:8080 ready local", "10.244.1.2:8080 serving terminating", "10.244.2.2:8080 ready"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i, e := range got {
		if s := describe(e); s != want[i] {
			t.Errorf("endpoint %d: got %q, want %q", i, s, want[i])
		}
	}
	tr.DeleteSlice(slice("web", "web-a", nil))
	tr.DeleteSlice(slice("web", "web-c", nil))
	if got := tr.Snapshot().Endpoints[spn("web", "http")]; len(got) != 2 || got[1].Ready {
		t.Fatalf("after deleting web-a: %v", got)
	}
	tr.DeleteService(service("web", "", nil...))
	if s := tr.Snapshot(); len(s.Services) != 0 || len(s.Endpoints) != 0 {
		t.Fatalf("after deleting the service: %+v", s)
	}
}

func describe(e Endpoint) string {
	s := e.String()
	if e.Ready {
		s += " ready"
	} else {
		if e.Serving {
			s += " serving"
		}
		if e.Terminating {
			s += " terminating"
		}
	}
	if e.Local {
		s += " local"
	}
	return s
}

type discoveryPort = discoveryv1.EndpointPort

func udpPort(p int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: ptr.To(""), Port: ptr.To(p), Protocol: ptr.To(corev1.ProtocolUDP)}
}
