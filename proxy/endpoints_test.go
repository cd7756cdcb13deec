package proxy

import (
	"net/netip"
	"reflect"
	"testing"
)

func ep(ip string, ready, serving, terminating, local bool) Endpoint {
	return Endpoint{IP: netip.MustParseAddr(ip), Port: 80, Ready: ready, Serving: serving, Terminating: terminating, Local: local}
}

func TestEndpointSelection(t *testing.T) {
	a := ep("10.244.0.2", true, true, false, true)
	b := ep("10.244.1.2", true, true, false, false)
	termLocal := ep("10.244.0.3", false, true, true, true)
	termRemote := ep("10.244.1.3", false, true, true, false)
	gone := ep("10.244.0.4", false, false, true, true)
	cases := []struct {
		name              string
		sp                ServicePort
		eps               []Endpoint
		cluster, external []Endpoint
	}{
		{"ready ones only", ServicePort{}, []Endpoint{a, b, termLocal}, []Endpoint{a, b}, []Endpoint{a, b}},
		{"terminating fallback", ServicePort{}, []Endpoint{termLocal, termRemote, gone}, []Endpoint{termLocal, termRemote}, []Endpoint{termLocal, termRemote}},
		{"internal local", ServicePort{InternalLocal: true}, []Endpoint{a, b}, []Endpoint{a}, []Endpoint{a, b}},
		{"external local falls back to local terminating", ServicePort{ExternalLocal: true}, []Endpoint{b, termLocal}, []Endpoint{b}, []Endpoint{termLocal}},
		{"external local with no local endpoint", ServicePort{ExternalLocal: true}, []Endpoint{b}, []Endpoint{b}, nil},
		{"none", ServicePort{}, []Endpoint{gone}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ClusterEndpoints(&c.sp, c.eps); !reflect.DeepEqual(got, c.cluster) {
				t.Errorf("cluster: got %v, want %v", got, c.cluster)
			}
			if got := ExternalEndpoints(&c.sp, c.eps); !reflect.DeepEqual(got, c.external) {
				t.Errorf("external: got %v, want %v", got, c.external)
			}
		})
	}
}
