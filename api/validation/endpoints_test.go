package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/api/defaults"
)

func TestEndpoints(t *testing.T) {
	eps := func(change func(*corev1.EndpointSubset)) *corev1.Endpoints {
		ep := &corev1.Endpoints{ObjectMeta: meta("db", "ns"), Subsets: []corev1.EndpointSubset{{
			Addresses:         []corev1.EndpointAddress{{IP: "10.244.0.5", Hostname: "db-0", NodeName: ptrTo("node-1")}},
			NotReadyAddresses: []corev1.EndpointAddress{{IP: "192.168.1.9"}},
			Ports:             []corev1.EndpointPort{{Port: 5432}}}}}
		if change != nil {
			change(&ep.Subsets[0])
		}
		defaults.Endpoints(ep)
		return ep
	}
	tests := []struct {
		name string
		ep   *corev1.Endpoints
		want []string
	}{
		{"valid", eps(nil), nil},
		{"no subsets", &corev1.Endpoints{ObjectMeta: meta("db", "ns")}, nil},
		{"headless without ports", eps(func(s *corev1.EndpointSubset) { s.Ports = nil }), nil},
		{"no addresses", eps(func(s *corev1.EndpointSubset) { s.Addresses, s.NotReadyAddresses = nil, nil }),
			[]string{"subsets[0]: Required value"}},
		{"only not ready", eps(func(s *corev1.EndpointSubset) { s.Addresses = nil }), nil},
		{"bad ip", eps(func(s *corev1.EndpointSubset) { s.Addresses[0].IP = "10.0.0.300" }),
			[]string{"subsets[0].addresses[0].ip: Invalid value"}},
		{"loopback", eps(func(s *corev1.EndpointSubset) { s.NotReadyAddresses[0].IP = "127.0.0.1" }),
			[]string{"subsets[0].notReadyAddresses[0].ip: Invalid value"}},
		{"link-local", eps(func(s *corev1.EndpointSubset) { s.Addresses[0].IP = "169.254.169.254" }),
			[]string{"subsets[0].addresses[0].ip: Invalid value"}},
		{"hostname and node", eps(func(s *corev1.EndpointSubset) {
			s.Addresses[0].Hostname, s.Addresses[0].NodeName = "Db_0", ptrTo("Node 1")
		}), []string{"subsets[0].addresses[0].hostname: Invalid value", "subsets[0].addresses[0].nodeName: Invalid value"}},
		{"ports", eps(func(s *corev1.EndpointSubset) {
			s.Ports = []corev1.EndpointPort{{Name: "pg", Port: 0, Protocol: "ICMP"}, {Port: 80}, {Name: "Bad_Name", Port: 81, AppProtocol: ptrTo("a b")}}
		}), []string{"subsets[0].ports[0].port: Invalid value", "subsets[0].ports[0].protocol: Unsupported value",
			"subsets[0].ports[1].name: Required value", "subsets[0].ports[2].name: Invalid value", "subsets[0].ports[2].appProtocol: Invalid value"}},
		{"name", func() *corev1.Endpoints { e := eps(nil); e.Name = "Bad_Name"; return e }(), []string{"metadata.name: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrors(t, Endpoints(tt.ep), tt.want)
		})
	}
}

func TestEndpointsMessages(t *testing.T) {
	ep := &corev1.Endpoints{ObjectMeta: meta("db", "ns"), Subsets: []corev1.EndpointSubset{{}, {
		Addresses: []corev1.EndpointAddress{{IP: "127.0.0.1"}}}}}
	got := Endpoints(ep).ToAggregate().Error()
	want := "[subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`, " +
		`subsets[1].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)]`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
