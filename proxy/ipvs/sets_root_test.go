//go:build linux

package ipvs

import (
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The real Sets against the kernel's ipset, in a namespace the test makes,
// for each set type we own (hash:ip,port,ip and hash:ip,port, with TCP,
// UDP and SCTP):
// create (again: kept, entries too), add, list, delete, destroy (again: no
// error), and nothing of it in the test's own namespace.
func TestRealSetsInNetns(t *testing.T) {
	s := NewSets(testNetns(t, "ipvs-sets"))
	ip := netip.MustParseAddr
	cases := []struct {
		set  SetSpec
		a, b Entry
	}{
		{SetSpec{LoopBackSet, LoopBackSetType},
			Entry{IP: ip("10.244.0.5"), Port: 8080, Protocol: corev1.ProtocolTCP}, Entry{IP: ip("10.244.0.6"), Port: 53, Protocol: corev1.ProtocolUDP}},
		{SetSpec{LocalNodePortSet, ipPortSetType},
			Entry{IP: ip("192.168.50.2"), Port: 30080, Protocol: corev1.ProtocolTCP}, Entry{IP: ip("192.168.50.2"), Port: 30080, Protocol: corev1.ProtocolUDP}},
		{SetSpec{LocalExternalIPSet, ipPortSetType},
			Entry{IP: ip("203.0.113.7"), Port: 80, Protocol: corev1.ProtocolSCTP}, Entry{IP: ip("203.0.113.7"), Port: 80, Protocol: corev1.ProtocolTCP}},
	}
	for _, c := range cases {
		t.Run(c.set.Name, func(t *testing.T) { checkRealSet(t, s, c.set, c.a, c.b) })
	}
}

func checkRealSet(t *testing.T, s Sets, set SetSpec, a, b Entry) {
	if err := s.EnsureSet(set); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.DestroySet(set) })
	for _, e := range []Entry{a, b} {
		if err := s.Add(set, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.EnsureSet(set); err != nil {
		t.Fatalf("EnsureSet of an existing set: %v", err)
	}
	got, err := s.Entries(set)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, compareEntries)
	if want := []Entry{a, b}; !slices.Equal(got, want) { // a < b
		t.Fatalf("entries %v, want %v", got, want)
	}
	if err := s.Del(set, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Entries(set); err != nil || !slices.Equal(got, []Entry{b}) {
		t.Fatalf("after deleting %s: %v %v", set.Format(a), got, err)
	}
	if _, err := NewSets("").Entries(set); err == nil {
		t.Error("the set is in the test's own namespace too")
	}
	if err := s.DestroySet(set); err != nil {
		t.Fatal(err)
	}
	if err := s.DestroySet(set); err != nil {
		t.Fatalf("destroying a missing set: %v", err)
	}
	if _, err := s.Entries(set); err == nil {
		t.Error("the set is still listed after DestroySet")
	}
}
