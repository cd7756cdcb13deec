package proxy

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// The tracker computes again only the Services that changed since the last
// snapshot. After any sequence of Service and EndpointSlice events, its
// snapshot must equal the one a new tracker computes from the same objects
// at once, and Changed must name every port that differs from the last
// snapshot.
func TestIncrementalSnapshotsMatchAFreshTracker(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tr := NewTracker("n1")
	svcs := map[string]*corev1.Service{}
	sls := map[string]*discoveryv1.EndpointSlice{}
	prev := tr.Snapshot()
	for step := range 400 {
		for range 1 + rng.IntN(4) {
			randomEvent(rng, tr, svcs, sls)
		}
		if rng.IntN(10) == 0 {
			continue // several steps' events in one snapshot
		}
		got := tr.Snapshot()
		fresh := NewTracker("n1")
		for _, s := range svcs {
			fresh.UpdateService(s)
		}
		for _, s := range sls {
			fresh.UpdateSlice(s)
		}
		want := fresh.Snapshot()
		if !reflect.DeepEqual(got.Services, want.Services) || !reflect.DeepEqual(got.Endpoints, want.Endpoints) {
			t.Fatalf("step %d: incremental snapshot\n%v\n%v\ndiffers from a fresh one\n%v\n%v", step, got.Services, got.Endpoints, want.Services, want.Endpoints)
		}
		if got.Seq != prev.Seq+1 {
			t.Fatalf("step %d: seq %d after %d", step, got.Seq, prev.Seq)
		}
		for _, name := range differing(prev, got) {
			if _, ok := got.Changed[name]; !ok {
				t.Fatalf("step %d: %v changed but is not in Changed %v", step, name, got.Changed)
			}
		}
		prev = got
	}
}

// randomEvent adds, changes or deletes one of 6 Services (1 or 2 ports) or
// one of their slices (2 per Service).
func randomEvent(rng *rand.Rand, tr *Tracker, svcs map[string]*corev1.Service, sls map[string]*discoveryv1.EndpointSlice) {
	i := rng.IntN(6)
	name := fmt.Sprintf("s%d", i)
	switch rng.IntN(5) {
	case 0:
		ports := []corev1.ServicePort{port("a", int32(80+rng.IntN(2)), "")}
		if rng.IntN(2) == 0 {
			ports = append(ports, port("b", 53, corev1.ProtocolUDP))
		}
		s := service(name, fmt.Sprintf("10.96.0.%d", 10+i), ports...)
		svcs[name] = s
		tr.UpdateService(s)
	case 1:
		if s, ok := svcs[name]; ok {
			delete(svcs, name)
			tr.DeleteService(s)
		}
	case 2, 3:
		sn := fmt.Sprintf("%s-%d", name, rng.IntN(2))
		var eps []discoveryv1.Endpoint
		for j := range rng.IntN(3) {
			// An address is on one node, whichever slice names it.
			last := j + rng.IntN(2)
			node := []string{"n1", "n2"}[last%2]
			eps = append(eps, endpoint(fmt.Sprintf("10.1.%d.%d", i, last), node, nil, nil, nil))
		}
		s := slice(name, sn, []discoveryv1.EndpointPort{sport("a", 8080), sport("b", 5353)}, eps...)
		sls[sn] = s
		tr.UpdateSlice(s)
	case 4:
		sn := fmt.Sprintf("%s-%d", name, rng.IntN(2))
		if s, ok := sls[sn]; ok {
			delete(sls, sn)
			tr.DeleteSlice(s)
		}
	}
}

// differing lists the ports whose ServicePort or endpoints differ
// between a and b.
func differing(a, b *Snapshot) []ServicePortName {
	var out []ServicePortName
	for _, s := range []*Snapshot{a, b} {
		for name := range s.Services {
			if !reflect.DeepEqual(a.Services[name], b.Services[name]) || !slices.Equal(a.Endpoints[name], b.Endpoints[name]) {
				out = append(out, name)
			}
		}
	}
	return out
}
