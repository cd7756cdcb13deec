package noderoutes

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(name, ip string, cidrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDRs: cidrs}}
	if len(cidrs) > 0 {
		n.Spec.PodCIDR = cidrs[0]
	}
	if ip != "" {
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: ip}}
	}
	return n
}

func routes(t *testing.T, s ...string) []Route {
	t.Helper()
	var out []Route
	for _, r := range s {
		dst, gw, _ := strings.Cut(r, " via ")
		out = append(out, Route{Dst: netip.MustParsePrefix(dst), Gw: netip.MustParseAddr(gw)})
	}
	return out
}

func TestDesiredRoutesEachPeerRangeThroughItsAddress(t *testing.T) {
	nodes := []*corev1.Node{
		node("a", "192.168.5.1", "10.244.0.0/24"),
		node("b", "192.168.5.2", "10.244.1.0/24"),
		node("c", "192.168.5.3", "10.244.2.0/24", "fd00:2::/64"), // no IPv6 address
		node("d", "", "10.244.3.0/24"),                           // no InternalIP yet
		node("e", "192.168.5.5"),                                 // no range yet
		node("f", "192.168.5.6", "10.244.0.128/25"),              // inside a's
		node("g", "192.168.5.7", "10.244.9.1/24"),                // not masked: routed as its network
	}
	peers, errs := PeersOf("a", nodes)
	if len(errs) != 0 {
		t.Fatalf("PeersOf: %v", errs)
	}
	got, problems := Desired([]netip.Prefix{netip.MustParsePrefix("10.244.0.0/24")}, peers)
	want := routes(t, "10.244.1.0/24 via 192.168.5.2", "10.244.2.0/24 via 192.168.5.3", "10.244.9.0/24 via 192.168.5.7")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes:\n got %v\nwant %v", got, want)
	}
	msgs := joinErrs(problems)
	for _, m := range []string{"node c: no InternalIP for pod CIDR fd00:2::/64", "node d: no InternalIP for pod CIDR 10.244.3.0/24", "node f: pod CIDR 10.244.0.128/25 overlaps"} {
		if !strings.Contains(msgs, m) {
			t.Errorf("problems %q lack %q", msgs, m)
		}
	}
}

func TestPeersOfReportsAnUnparsableRange(t *testing.T) {
	_, errs := PeersOf("a", []*corev1.Node{node("b", "192.168.5.2", "10.244.1.0/33")})
	if !strings.Contains(joinErrs(errs), `node b: pod CIDR "10.244.1.0/33"`) {
		t.Errorf("errors %v", errs)
	}
}

func TestPlanTouchesOnlyWhatDiffers(t *testing.T) {
	want := routes(t, "10.244.1.0/24 via 192.168.5.2", "10.244.2.0/24 via 192.168.5.30")
	have := routes(t, "10.244.1.0/24 via 192.168.5.2", "10.244.2.0/24 via 192.168.5.3", "10.244.7.0/24 via 192.168.5.9")
	replace, remove := Plan(want, have)
	if !reflect.DeepEqual(replace, routes(t, "10.244.2.0/24 via 192.168.5.30")) {
		t.Errorf("replace %v", replace)
	}
	if !reflect.DeepEqual(remove, routes(t, "10.244.7.0/24 via 192.168.5.9")) {
		t.Errorf("remove %v", remove)
	}
	if r, d := Plan(want, want); r != nil || d != nil {
		t.Errorf("in sync, yet replace %v remove %v", r, d)
	}
}

func joinErrs(errs []error) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}
