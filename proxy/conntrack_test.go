package proxy

import (
	"net/netip"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func udpSnapshot(eps ...string) *Snapshot {
	name := spn("dns", "")
	name.Protocol = corev1.ProtocolUDP
	sp := &ServicePort{Name: name, ClusterIP: netip.MustParseAddr("10.96.0.10"), Port: 53, Protocol: corev1.ProtocolUDP, NodePort: 30053}
	s := &Snapshot{Services: map[ServicePortName]*ServicePort{name: sp}, Endpoints: map[ServicePortName][]Endpoint{}}
	for _, ip := range eps {
		s.Endpoints[name] = append(s.Endpoints[name], Endpoint{IP: netip.MustParseAddr(ip), Port: 5353, Ready: true, Serving: true})
	}
	return s
}

func TestStaleFlows(t *testing.T) {
	vip, ep2 := netip.MustParseAddr("10.96.0.10"), netip.MustParseAddr("10.244.0.2")
	cases := []struct {
		name       string
		prev, next *Snapshot
		want       []Flow
	}{
		{"first sync", nil, udpSnapshot("10.244.0.2"), nil},
		{"unchanged", udpSnapshot("10.244.0.2"), udpSnapshot("10.244.0.2"), nil},
		{"endpoint gone", udpSnapshot("10.244.0.2", "10.244.0.3"), udpSnapshot("10.244.0.3"),
			[]Flow{{Dst: vip, DstPort: 53, ReplySrc: ep2}, {DstPort: 30053, ReplySrc: ep2}}},
		{"service gone", udpSnapshot("10.244.0.2"), &Snapshot{},
			[]Flow{{Dst: vip, DstPort: 53, ReplySrc: ep2}, {DstPort: 30053, ReplySrc: ep2}}},
		{"first endpoint", udpSnapshot(), udpSnapshot("10.244.0.2"), []Flow{{Dst: vip, DstPort: 53}, {DstPort: 30053}}},
		{"new service with endpoints", &Snapshot{}, udpSnapshot("10.244.0.2"), []Flow{{Dst: vip, DstPort: 53}, {DstPort: 30053}}},
		{"new service without endpoints", &Snapshot{}, udpSnapshot(), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := staleFlows(c.prev, c.next); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestStaleFlowsIgnoreTCP(t *testing.T) {
	prev := udpSnapshot("10.244.0.2")
	for _, sp := range prev.Services {
		sp.Protocol = corev1.ProtocolTCP
	}
	if got := staleFlows(prev, &Snapshot{}); len(got) != 0 {
		t.Fatalf("TCP needs no conntrack cleanup, got %v", got)
	}
}
