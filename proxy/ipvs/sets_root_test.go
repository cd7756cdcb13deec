//go:build linux

package ipvs

import (
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The real Sets against the kernel's ipset, in a namespace the test makes:
// create (again: kept, entries too), add, list, delete, destroy (again: no
// error), and nothing of it in the test's own namespace.
func TestRealSetsInNetns(t *testing.T) {
	s := NewSets(testNetns(t, "ipvs-sets"))
	a := LoopBack{IP: netip.MustParseAddr("10.244.0.5"), Port: 8080, Protocol: corev1.ProtocolTCP}
	b := LoopBack{IP: netip.MustParseAddr("10.244.0.6"), Port: 53, Protocol: corev1.ProtocolUDP}
	if err := s.EnsureSet(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.DestroySet() })
	for _, l := range []LoopBack{a, b} {
		if err := s.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.EnsureSet(); err != nil {
		t.Fatalf("EnsureSet of an existing set: %v", err)
	}
	got, err := s.Entries()
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, compareLoopBack)
	if !slices.Equal(got, []LoopBack{a, b}) {
		t.Fatalf("entries %v, want %v", got, []LoopBack{a, b})
	}
	if err := s.Del(a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Entries(); err != nil || !slices.Equal(got, []LoopBack{b}) {
		t.Fatalf("after deleting %s: %v %v", a, got, err)
	}
	if _, err := NewSets("").Entries(); err == nil {
		t.Error("the set is in the test's own namespace too")
	}
	if err := s.DestroySet(); err != nil {
		t.Fatal(err)
	}
	if err := s.DestroySet(); err != nil {
		t.Fatalf("destroying a missing set: %v", err)
	}
	if _, err := s.Entries(); err == nil {
		t.Error("the set is still listed after DestroySet")
	}
}
