package printers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestEndpointsRow(t *testing.T) {
	addrs := func(ips ...string) []corev1.EndpointAddress {
		out := make([]corev1.EndpointAddress, len(ips))
		for i, ip := range ips {
			out[i].IP = ip
		}
		return out
	}
	ports := func(ns ...int32) []corev1.EndpointPort {
		out := make([]corev1.EndpointPort, len(ns))
		for i, n := range ns {
			out[i] = corev1.EndpointPort{Port: n, Protocol: corev1.ProtocolTCP}
		}
		return out
	}
	tests := []struct {
		name    string
		subsets []corev1.EndpointSubset
		want    string
	}{
		{"none", nil, "<none>"},
		{"only not ready", []corev1.EndpointSubset{{NotReadyAddresses: addrs("10.0.0.1"), Ports: ports(80)}}, "<none>"},
		{"one", []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1"), Ports: ports(80)}}, "10.0.0.1:80"},
		{"headless without ports", []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2")}}, "10.0.0.1,10.0.0.2"},
		{"ipv6", []corev1.EndpointSubset{{Addresses: addrs("fd00::1"), Ports: ports(80)}}, "[fd00::1]:80"},
		{"three", []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3"), Ports: ports(80)}},
			"10.0.0.1:80,10.0.0.2:80,10.0.0.3:80"},
		{"ports times addresses", []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2"), Ports: ports(80, 443)}},
			"10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..."},
		{"across subsets", []corev1.EndpointSubset{
			{Addresses: addrs("10.0.0.1", "10.0.0.2"), Ports: ports(80)},
			{Addresses: addrs("10.0.0.3", "10.0.0.4", "10.0.0.5"), Ports: ports(8080)}},
			"10.0.0.1:80,10.0.0.2:80,10.0.0.3:8080 + 2 more..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := &corev1.Endpoints{ObjectMeta: objectMeta("web"), Subsets: tt.subsets}
			checkCells(t, row(t, "endpoints", ep), []interface{}{"web", tt.want, "10m"})
		})
	}
}
