package proxy

import (
	"fmt"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
)

// bigTracker holds n Services of one port with 3 endpoints each.
func bigTracker(n int) *Tracker {
	tr := NewTracker("n1")
	for i := range n {
		tr.UpdateService(service(fmt.Sprintf("svc-%d", i), fmt.Sprintf("10.96.%d.%d", i/250, i%250+1), port("", 80, "")))
		tr.UpdateSlice(benchSlice(i, 0))
	}
	return tr
}

// benchSlice is Service i's slice, its last endpoint at version v.
func benchSlice(i, v int) *discoveryv1.EndpointSlice {
	name := fmt.Sprintf("svc-%d", i)
	return slice(name, name+"-abc", []discoveryv1.EndpointPort{sport("", 80)},
		endpoint(fmt.Sprintf("10.1.%d.%d", i/250, i%250), "n2", nil, nil, nil),
		endpoint(fmt.Sprintf("10.2.%d.%d", i/250, i%250), "n2", nil, nil, nil),
		endpoint(fmt.Sprintf("10.3.%d.%d", v/250, v%250), "n1", nil, nil, nil))
}

// BenchmarkTrackerSnapshot10k is one EndpointSlice change at 10,000
// Services, then the snapshot every sync starts with.
func BenchmarkTrackerSnapshot10k(b *testing.B) {
	tr := bigTracker(10000)
	tr.Snapshot()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		tr.UpdateSlice(benchSlice(5000, i%60000))
		if s := tr.Snapshot(); len(s.Changed) != 1 {
			b.Fatalf("changed %v", s.Changed)
		}
	}
}

// BenchmarkTrackerFirstSnapshot10k is the first snapshot of 10,000
// Services, what the first (full) sync starts with.
func BenchmarkTrackerFirstSnapshot10k(b *testing.B) {
	tr := bigTracker(10000)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for key := range tr.services {
			tr.dirty[key] = true
		}
		tr.Snapshot()
	}
}
