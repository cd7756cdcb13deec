package noderoutes

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// withMAC is n with its VTEP MAC published.
func withMAC(n *corev1.Node, mac string) *corev1.Node {
	n.Annotations = map[string]string{MACAnnotation: mac}
	return n
}

func TestDesiredVXLANRoutesEachPeerRangeThroughItsVTEP(t *testing.T) {
	nodes := []*corev1.Node{
		withMAC(node("a", "10.77.1.1", "10.244.0.0/24"), "02:00:00:00:00:0a"),
		withMAC(node("b", "10.77.2.1", "10.244.1.0/24", "10.244.7.0/24"), "02:00:00:00:00:0B"),
		node("c", "10.77.3.1", "10.244.2.0/24"),                                              // no MAC yet
		withMAC(node("d", "10.77.4.1", "10.244.3.0/24"), "02:00:00:00:00:0b"),                // b's MAC
		withMAC(node("e", "10.77.5.1", "10.244.0.128/25"), "02:00:00:00:00:0e"),              // inside a's range
		withMAC(node("f", "10.77.6.1", "10.244.6.0/24", "fd00:6::/64"), "02:00:00:00:00:0f"), // no IPv6 address
	}
	peers, errs := PeersOf("a", nodes)
	if len(errs) != 0 {
		t.Fatalf("PeersOf: %v", errs)
	}
	got, problems := DesiredVXLAN([]netip.Prefix{netipPrefix("10.244.0.0/24")}, peers)
	want := Tables{
		Routes: []Route{
			{Dst: netipPrefix("10.244.1.0/24"), Gw: netipAddr("10.244.1.0"), Dev: DeviceName},
			{Dst: netipPrefix("10.244.6.0/24"), Gw: netipAddr("10.244.6.0"), Dev: DeviceName},
			{Dst: netipPrefix("10.244.7.0/24"), Gw: netipAddr("10.244.7.0"), Dev: DeviceName},
		},
		Neighbors: []Neighbor{
			{IP: netipAddr("10.244.1.0"), MAC: "02:00:00:00:00:0b"},
			{IP: netipAddr("10.244.7.0"), MAC: "02:00:00:00:00:0b"},
			{IP: netipAddr("10.244.6.0"), MAC: "02:00:00:00:00:0f"},
		},
		FDB: []FDBEntry{{MAC: "02:00:00:00:00:0b", Dst: netipAddr("10.77.2.1")}, {MAC: "02:00:00:00:00:0f", Dst: netipAddr("10.77.6.1")}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tables:\n got %+v\nwant %+v", got, want)
	}
	msgs := joinErrs(problems)
	for _, m := range []string{
		"node c: no VTEP MAC published yet (annotation nodeagent.io/vxlan-vtep-mac)",
		"node d: VTEP MAC 02:00:00:00:00:0b is node b's too",
		"node e: pod CIDR 10.244.0.128/25 overlaps",
		"node f: no InternalIP for pod CIDR fd00:6::/64",
	} {
		if !strings.Contains(msgs, m) {
			t.Errorf("problems %q lack %q", msgs, m)
		}
	}
}

func TestPeersOfReportsAnUnparsableMAC(t *testing.T) {
	peers, errs := PeersOf("a", []*corev1.Node{withMAC(node("b", "10.77.2.1", "10.244.1.0/24"), "not-a-mac")})
	if !strings.Contains(joinErrs(errs), `node b: annotation nodeagent.io/vxlan-vtep-mac: "not-a-mac" is not a MAC address`) {
		t.Errorf("errors %v", errs)
	}
	if len(peers) != 1 || peers[0].VTEPMAC != "" {
		t.Errorf("peers %+v: the range stays, without a MAC", peers)
	}
}

func TestDeviceForTakesTheRangeNetworkAndTheUnderlayMTU(t *testing.T) {
	self, err := SelfOf(node("a", "10.77.1.1", "fd00:1::/64", "10.244.3.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	got := DeviceFor(self, Underlay{Index: 7, MTU: 9000})
	want := Device{Name: "nodeagent.1", VNI: 1, Port: 8472, Local: netipAddr("10.77.1.1"), Underlay: 7, MTU: 8950, Addr: netipPrefix("10.244.3.0/32")}
	if got != want {
		t.Errorf("device %+v, want %+v", got, want)
	}
	for n, msg := range map[*corev1.Node]string{
		node("x", "10.77.1.1"):                "node x: no pod CIDR yet",
		node("y", "", "10.244.3.0/24"):        "node y: no IPv4 InternalIP",
		node("z", "10.77.1.1", "fd00:1::/64"): "node z: no IPv4 pod CIDR",
	} {
		if _, err := SelfOf(n); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("SelfOf %s: %v, want %q", n.Name, err, msg)
		}
	}
}

func TestPlanNeighborsAndFDBReplaceByKey(t *testing.T) {
	setN, delN := PlanNeighbors(
		[]Neighbor{{netipAddr("10.244.1.0"), "02:00:00:00:00:01"}, {netipAddr("10.244.2.0"), "02:00:00:00:00:22"}},
		[]Neighbor{{netipAddr("10.244.2.0"), "02:00:00:00:00:02"}, {netipAddr("10.244.9.0"), "02:00:00:00:00:09"}})
	if !reflect.DeepEqual(setN, []Neighbor{{netipAddr("10.244.1.0"), "02:00:00:00:00:01"}, {netipAddr("10.244.2.0"), "02:00:00:00:00:22"}}) ||
		!reflect.DeepEqual(delN, []Neighbor{{netipAddr("10.244.9.0"), "02:00:00:00:00:09"}}) {
		t.Errorf("neighbours: set %v remove %v", setN, delN)
	}
	setF, delF := PlanFDB([]FDBEntry{{"02:00:00:00:00:01", netipAddr("10.77.2.9")}},
		[]FDBEntry{{"02:00:00:00:00:01", netipAddr("10.77.2.1")}, {"02:00:00:00:00:09", netipAddr("10.77.9.1")}})
	if !reflect.DeepEqual(setF, []FDBEntry{{"02:00:00:00:00:01", netipAddr("10.77.2.9")}}) ||
		!reflect.DeepEqual(delF, []FDBEntry{{"02:00:00:00:00:09", netipAddr("10.77.9.1")}}) {
		t.Errorf("fdb: set %v remove %v", setF, delF)
	}
}
