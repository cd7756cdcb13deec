package validation

import (
	"testing"

	"github.com/nodeagent/nodeagent/api/defaults"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// validService is a defaulted ClusterIP service with one port.
func validService() *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
		},
	}
	defaults.Service(s)
	return s
}

func TestService(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *corev1.Service)
		want   []string
	}{
		{"valid", func(s *corev1.Service) {}, nil},
		{"allocated clusterIP", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"} }, nil},
		{"name starting with a digit", func(s *corev1.Service) { s.Name = "1web" }, nil},
		{"name with a dot", func(s *corev1.Service) { s.Name = "web.v1" }, []string{"metadata.name: Invalid value"}},
		{"no ports", func(s *corev1.Service) { s.Spec.Ports = nil }, []string{"spec.ports: Required value"}},
		{"headless without ports", func(s *corev1.Service) {
			s.Spec.Ports, s.Spec.ClusterIP, s.Spec.ClusterIPs = nil, "None", []string{"None"}
		}, nil},
		{"port 0", func(s *corev1.Service) { s.Spec.Ports[0].Port = 0 }, []string{"spec.ports[0].port: Invalid value"}},
		{"protocol", func(s *corev1.Service) { s.Spec.Ports[0].Protocol = "HTTP" }, []string{"spec.ports[0].protocol: Unsupported value"}},
		{"targetPort name", func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("http_web") },
			[]string{"spec.ports[0].targetPort: Invalid value"}},
		{"targetPort number", func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromInt32(70000) },
			[]string{"spec.ports[0].targetPort: Invalid value"}},
		{"second port needs names", func(s *corev1.Service) {
			s.Spec.Ports[0].Name = ""
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: 443, Protocol: "TCP", TargetPort: intstr.FromInt32(443)})
		}, []string{"spec.ports[0].name: Required value", "spec.ports[1].name: Required value"}},
		{"duplicate port names", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "http", Port: 443, Protocol: "TCP", TargetPort: intstr.FromInt32(443)})
		}, []string{"spec.ports[1].name: Duplicate value"}},
		{"duplicate port", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "alt", Port: 80, Protocol: "TCP", TargetPort: intstr.FromInt32(80)})
		}, []string{"spec.ports[1]: Duplicate value"}},
		{"same port other protocol", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "quic", Port: 80, Protocol: "UDP", TargetPort: intstr.FromInt32(80)})
		}, nil},
		{"nodePort on ClusterIP", func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30080 }, []string{"spec.ports[0].nodePort: Forbidden"}},
		{"type", func(s *corev1.Service) { s.Spec.Type = "Internal" }, []string{"spec.type: Unsupported value"}},
		{"sessionAffinity", func(s *corev1.Service) { s.Spec.SessionAffinity = "Cookie" }, []string{"spec.sessionAffinity: Unsupported value"}},
		{"affinity timeout", func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptrTo(int32(0))}}
		}, []string{"spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value"}},
		{"affinity config without ClientIP", func(s *corev1.Service) {
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{}
		}, []string{"spec.sessionAffinityConfig: Forbidden"}},
		{"selector", func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "web app"} }, []string{"spec.selector: Invalid value"}},
		{"clusterIP not an IP", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "abc", []string{"abc"} },
			[]string{"spec.clusterIPs[0]: Invalid value"}},
		{"clusterIPs not synced", func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.10" }, []string{"spec.clusterIPs: Required value"}},
		{"clusterIP family mismatch", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "fd00::10", []string{"fd00::10"} },
			[]string{"spec.clusterIPs[0]: Invalid value"}},
		{"two IPv4 clusterIPs", func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10", "10.96.0.11"}
			s.Spec.IPFamilyPolicy = ptrTo(corev1.IPFamilyPolicyPreferDualStack)
		}, []string{"spec.clusterIPs: Invalid value"}},
		{"ipFamilies", func(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{"IPv5"} }, []string{"spec.ipFamilies[0]: Unsupported value"}},
		{"externalIPs", func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"192.0.2.1", "127.0.0.1", "x"} }, []string{
			"spec.externalIPs[1]: Invalid value", "spec.externalIPs[2]: Invalid value", "spec.externalTrafficPolicy: Required value"}},
		{"externalTrafficPolicy on ClusterIP", func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal },
			[]string{"spec.externalTrafficPolicy: Invalid value"}},
		{"internalTrafficPolicy", func(s *corev1.Service) { s.Spec.InternalTrafficPolicy = nil }, []string{"spec.internalTrafficPolicy: Required value"}},
		{"source ranges on ClusterIP", func(s *corev1.Service) { s.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0/8", "10.0.0.1"} },
			[]string{"spec.LoadBalancerSourceRanges: Forbidden", "spec.LoadBalancerSourceRanges[1]: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validService()
			tt.mutate(s)
			assertErrors(t, Service(s), tt.want)
		})
	}
}

func TestServiceTypes(t *testing.T) {
	tests := []struct {
		name string
		spec corev1.ServiceSpec
		want []string
	}{
		{"NodePort", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}}, nil},
		{"NodePort out of range", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80, NodePort: 70000}}},
			[]string{"spec.ports[0].nodePort: Invalid value"}},
		{"duplicate nodePort", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{
			{Name: "a", Port: 80, NodePort: 30080}, {Name: "b", Port: 81, NodePort: 30080}}},
			[]string{"spec.ports[1].nodePort: Duplicate value"}},
		{"headless NodePort", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "None", Ports: []corev1.ServicePort{{Port: 80}}},
			[]string{"spec.clusterIPs[0]: Invalid value"}},
		{"LoadBalancer", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}},
			LoadBalancerSourceRanges: []string{"10.0.0.0/8"}}, nil},
		{"healthCheckNodePort on Cluster policy", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}},
			HealthCheckNodePort: 30000}, []string{"spec.healthCheckNodePort: Invalid value"}},
		{"loadBalancerClass on NodePort", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}},
			LoadBalancerClass: ptrTo("example.com/lb")}, []string{"spec.loadBalancerClass: Forbidden"}},
		{"ExternalName", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com."}, nil},
		{"ExternalName without name", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName}, []string{"spec.externalName: Required value"}},
		{"ExternalName with clusterIP", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db", ClusterIP: "10.96.0.10"},
			[]string{"spec.clusterIPs: Forbidden"}},
		{"ExternalName nodePort", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db", Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}},
			[]string{"spec.ports[0].nodePort: Forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: tt.spec}
			defaults.Service(s)
			assertErrors(t, Service(s), tt.want)
		})
	}
}

func TestServiceUpdate(t *testing.T) {
	stored := func() *corev1.Service {
		s := validService()
		s.ResourceVersion = "3"
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
		return s
	}
	tests := []struct {
		name   string
		mutate func(s *corev1.Service)
		want   []string
	}{
		{"ports", func(s *corev1.Service) { s.Spec.Ports[0].Port = 8080 }, nil},
		{"to NodePort", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
		}, nil},
		{"clusterIP", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.11", []string{"10.96.0.11"} },
			[]string{"spec.clusterIPs[0]: Invalid value"}},
		{"clusterIP dropped", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "", nil },
			[]string{"spec.clusterIPs[0]: Invalid value"}},
		{"to headless", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "None", []string{"None"} },
			[]string{"spec.clusterIPs[0]: Invalid value"}},
		{"to ExternalName", func(s *corev1.Service) {
			s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com", SessionAffinity: corev1.ServiceAffinityNone}
		}, nil},
		{"ipFamilies", func(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol} },
			[]string{"spec.ipFamilies[0]: Invalid value", "spec.clusterIPs[0]: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := stored()
			s := old.DeepCopy()
			tt.mutate(s)
			assertErrors(t, ServiceUpdate(s, old), tt.want)
		})
	}
}
