package printers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func service(typ corev1.ServiceType, edit func(*corev1.ServiceSpec)) *corev1.Service {
	s := &corev1.Service{ObjectMeta: objectMeta("web")}
	s.Spec = corev1.ServiceSpec{Type: typ, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
		Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}}
	if edit != nil {
		edit(&s.Spec)
	}
	return s
}

func TestServiceRow(t *testing.T) {
	tests := []struct {
		name string
		svc  *corev1.Service
		want []interface{}
	}{
		{name: "cluster IP", svc: service(corev1.ServiceTypeClusterIP, func(s *corev1.ServiceSpec) {
			s.Selector = map[string]string{"tier": "front", "app": "web"}
		}), want: []interface{}{"web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "10m", "app=web,tier=front"}},
		{name: "external IPs and several ports", svc: service(corev1.ServiceTypeClusterIP, func(s *corev1.ServiceSpec) {
			s.ExternalIPs = []string{"192.0.2.1", "192.0.2.2"}
			s.Ports = append(s.Ports, corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolUDP})
		}), want: []interface{}{"web", "ClusterIP", "10.96.0.10", "192.0.2.1,192.0.2.2", "80/TCP,53/UDP", "10m", "<none>"}},
		{name: "headless without ports", svc: service(corev1.ServiceTypeClusterIP, func(s *corev1.ServiceSpec) {
			s.ClusterIP, s.ClusterIPs, s.Ports = "None", []string{"None"}, nil
		}), want: []interface{}{"web", "ClusterIP", "None", "<none>", "<none>", "10m", "<none>"}},
		{name: "only clusterIP set", svc: service(corev1.ServiceTypeClusterIP, func(s *corev1.ServiceSpec) {
			s.ClusterIPs = nil
		}), want: []interface{}{"web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "10m", "<none>"}},
		{name: "node port", svc: service(corev1.ServiceTypeNodePort, func(s *corev1.ServiceSpec) {
			s.Ports[0].NodePort = 30080
		}), want: []interface{}{"web", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP", "10m", "<none>"}},
		{name: "pending load balancer", svc: service(corev1.ServiceTypeLoadBalancer, func(s *corev1.ServiceSpec) {
			s.Ports[0].NodePort = 31000
		}), want: []interface{}{"web", "LoadBalancer", "10.96.0.10", "<pending>", "80:31000/TCP", "10m", "<none>"}},
		{name: "load balancer with externalIPs only", svc: service(corev1.ServiceTypeLoadBalancer, func(s *corev1.ServiceSpec) {
			s.ExternalIPs = []string{"192.0.2.9"}
		}), want: []interface{}{"web", "LoadBalancer", "10.96.0.10", "192.0.2.9", "80/TCP", "10m", "<none>"}},
		{name: "external name", svc: service(corev1.ServiceTypeExternalName, func(s *corev1.ServiceSpec) {
			s.ExternalName, s.ClusterIP, s.ClusterIPs, s.Ports = "db.example.com", "", nil, nil
		}), want: []interface{}{"web", "ExternalName", "<none>", "db.example.com", "<none>", "10m", "<none>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCells(t, row(t, "services", tt.svc), tt.want)
		})
	}
}

func TestLoadBalancerIngress(t *testing.T) {
	svc := service(corev1.ServiceTypeLoadBalancer, func(s *corev1.ServiceSpec) { s.ExternalIPs = []string{"192.0.2.9"} })
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{
		{IP: "203.0.113.7"}, {Hostname: "lb.example.com"}, {IP: "203.0.113.5"}, {IP: "203.0.113.7"}, {}}
	if got, want := cell(t, "services", svc, "EXTERNAL-IP"), "203.0.113.5,203.0.113.7,lb.example.com,192.0.2.9"; got != want {
		t.Errorf("EXTERNAL-IP %q, want %q", got, want)
	}
}

func TestServiceColumns(t *testing.T) {
	p, _ := For("services")
	if got, want := header(p.Columns(), true), "NAME | TYPE | CLUSTER-IP | EXTERNAL-IP | PORT(S) | AGE | SELECTOR"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	if got, want := header(p.Columns(), false), "NAME | TYPE | CLUSTER-IP | EXTERNAL-IP | PORT(S) | AGE"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
}

func ptr[T any](v T) *T {
	return &v
}

func TestEndpointSliceRow(t *testing.T) {
	endpoints := func(addrs ...string) []discoveryv1.Endpoint {
		var out []discoveryv1.Endpoint
		for _, a := range addrs {
			out = append(out, discoveryv1.Endpoint{Addresses: []string{a}})
		}
		return out
	}
	tests := []struct {
		name      string
		ports     []discoveryv1.EndpointPort
		endpoints []discoveryv1.Endpoint
		wantPorts string
		wantEps   string
	}{
		{name: "empty", wantPorts: "<unset>", wantEps: "<unset>"},
		{name: "two ports, two endpoints",
			ports:     []discoveryv1.EndpointPort{{Port: ptr[int32](80)}, {Port: ptr[int32](443)}},
			endpoints: endpoints("10.0.0.1", "10.0.0.2"),
			wantPorts: "80,443", wantEps: "10.0.0.1,10.0.0.2"},
		{name: "named and wildcard ports",
			ports:     []discoveryv1.EndpointPort{{Name: ptr("http")}, {}},
			wantPorts: "http,*", wantEps: "<unset>"},
		{name: "more than three",
			ports:     []discoveryv1.EndpointPort{{Port: ptr[int32](1)}, {Port: ptr[int32](2)}, {Port: ptr[int32](3)}, {Port: ptr[int32](4)}},
			endpoints: append(endpoints("10.0.0.1", "10.0.0.2"), discoveryv1.Endpoint{Addresses: []string{"10.0.0.3", "10.0.0.4", "10.0.0.5"}}),
			wantPorts: "1,2,3 + 1 more...", wantEps: "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &discoveryv1.EndpointSlice{ObjectMeta: objectMeta("web-abcde"), AddressType: discoveryv1.AddressTypeIPv4,
				Ports: tt.ports, Endpoints: tt.endpoints}
			checkCells(t, row(t, "endpointslices", s), []interface{}{"web-abcde", "IPv4", tt.wantPorts, tt.wantEps, "10m"})
		})
	}
}

func TestEndpointSliceColumns(t *testing.T) {
	p, _ := For("endpointslices")
	if got, want := header(p.Columns(), true), "NAME | ADDRESSTYPE | PORTS | ENDPOINTS | AGE"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
}
