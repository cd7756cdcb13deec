package endpointslicemirroring

import (
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestShouldMirror(t *testing.T) {
	tests := []struct {
		name string
		ep   *corev1.Endpoints
		svc  *corev1.Service
		want bool
	}{
		{"selectorless service", handWritten(), external(), true},
		{"no service", handWritten(), nil, false},
		{"no endpoints", nil, external(), false},
		{"service with a selector", handWritten(), external(func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "db"} }), false},
		{"skip-mirror", handWritten(func(ep *corev1.Endpoints) { ep.Labels[discoveryv1.LabelSkipMirror] = "true" }), external(), false},
		{"leader election record", handWritten(func(ep *corev1.Endpoints) { ep.Annotations[leaderAnnotation] = "{}" }), external(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ShouldMirror(tt.ep, tt.svc); got != tt.want {
				t.Errorf("ShouldMirror = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDesiredMirrorsAddresses(t *testing.T) {
	got := Desired(handWritten(), external(), MaxEndpointsPerSubset)
	if len(got) != 1 {
		t.Fatalf("%d slices", len(got))
	}
	s := got[0]
	if s.GenerateName != "db-" || s.Name != "" || s.Namespace != "default" || s.AddressType != discoveryv1.AddressTypeIPv4 {
		t.Fatalf("slice meta %+v %s", s.ObjectMeta, s.AddressType)
	}
	wantLabels := map[string]string{"team": "data", discoveryv1.LabelServiceName: "db", discoveryv1.LabelManagedBy: ManagedBy}
	if !maps.Equal(s.Labels, wantLabels) || !maps.Equal(s.Annotations, map[string]string{"note": "primary"}) {
		t.Fatalf("labels %v annotations %v", s.Labels, s.Annotations)
	}
	if o := s.OwnerReferences; len(o) != 1 || o[0].Kind != "Service" || o[0].Name != "db" || o[0].UID != "svc-uid" || !*o[0].Controller {
		t.Fatalf("owner %+v", o)
	}
	if got := endpointIPs(s); !slices.Equal(got, []string{"192.0.2.10=true", "192.0.2.11=false"}) {
		t.Fatalf("endpoints %v", got)
	}
	e := s.Endpoints[0]
	if *e.Hostname != "db-0" || *e.NodeName != "n1" {
		t.Errorf("endpoint %+v", e)
	}
	if p := s.Ports; len(p) != 1 || *p[0].Name != "pg" || *p[0].Port != 5432 || *p[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("ports %+v", p)
	}
}

func TestDesiredGroupsByFamilyAndPorts(t *testing.T) {
	ep := handWritten(func(ep *corev1.Endpoints) {
		ep.Subsets[0].Addresses = append(ep.Subsets[0].Addresses, corev1.EndpointAddress{IP: "fd00::10"},
			corev1.EndpointAddress{IP: "not-an-ip"}, corev1.EndpointAddress{IP: "192.0.2.11"})
		ep.Subsets = append(ep.Subsets, corev1.EndpointSubset{Addresses: []corev1.EndpointAddress{{IP: "192.0.2.20"}},
			Ports: []corev1.EndpointPort{{Name: "pg", Port: 5433, Protocol: corev1.ProtocolTCP}}})
	})
	got := Desired(ep, external(), MaxEndpointsPerSubset)
	var summary []string
	for _, s := range got {
		summary = append(summary, sliceKey(s.AddressType, s.Ports)+": "+strings.Join(endpointIPs(s), " "))
	}
	want := []string{
		"IPv4|pg/TCP/5432/: 192.0.2.10=true 192.0.2.11=true",
		"IPv4|pg/TCP/5433/: 192.0.2.20=true",
		"IPv6|pg/TCP/5432/: fd00::10=true",
	}
	if !slices.Equal(summary, want) {
		t.Fatalf("slices\n got %q\nwant %q", summary, want)
	}
}

func TestDesiredCapsEachSubset(t *testing.T) {
	got := Desired(handWritten(withAddresses(1200)), external(), MaxEndpointsPerSubset)
	if len(got) != 1 || len(got[0].Endpoints) != 1000 {
		t.Fatalf("mirrored %d endpoints, want 1000", len(got[0].Endpoints))
	}
}

func TestPlan(t *testing.T) {
	named := func(ss []*discoveryv1.EndpointSlice, names ...string) []*discoveryv1.EndpointSlice {
		for i, s := range ss {
			s.Name, s.UID = names[i], types.UID("uid-"+names[i])
		}
		return ss
	}
	ep := handWritten()
	existing := named(Desired(ep, external(), MaxEndpointsPerSubset), "db-a")
	if a := Plan(Desired(ep, external(), MaxEndpointsPerSubset), existing); !a.Empty() {
		t.Fatalf("unchanged: %+v", a)
	}
	// One more address: the slice is updated in place; a stray duplicate
	// slice of the same key goes.
	dup := named(Desired(ep, external(), MaxEndpointsPerSubset), "db-b")
	ep.Subsets[0].Addresses = append(ep.Subsets[0].Addresses, corev1.EndpointAddress{IP: "192.0.2.12"})
	a := Plan(Desired(ep, external(), MaxEndpointsPerSubset), append(existing, dup...))
	if len(a.Create) != 0 || len(a.Update) != 1 || a.Update[0].Name != "db-a" || len(a.Delete) != 1 || a.Delete[0].Name != "db-b" {
		t.Fatalf("plan %+v", a)
	}
	// The port changes: a new slice, the old one deleted.
	ep.Subsets[0].Ports[0].Port = 6543
	a = Plan(Desired(ep, external(), MaxEndpointsPerSubset), existing)
	if len(a.Create) != 1 || len(a.Update) != 0 || len(a.Delete) != 1 {
		t.Fatalf("plan %+v", a)
	}
}
