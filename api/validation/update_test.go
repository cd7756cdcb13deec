package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// assertMessages compares the full error strings, kube's field paths and
// messages included.
func assertMessages(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	if len(got) != len(want) {
		t.Fatalf("errors:\n got  %q\n want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("error %d:\n got  %s\n want %s", i, got[i], want[i])
		}
	}
}

func TestImmutableConfigMapAndSecretUpdates(t *testing.T) {
	cm := func(immutable *bool, data, bin string) *corev1.ConfigMap {
		m := meta("cfg", "ns")
		m.ResourceVersion = "1"
		c := &corev1.ConfigMap{ObjectMeta: m, Immutable: immutable, Data: map[string]string{"k": data}}
		if bin != "" {
			c.BinaryData = map[string][]byte{"b": []byte(bin)}
		}
		return c
	}
	sec := func(typ corev1.SecretType, immutable *bool, v string) *corev1.Secret {
		m := meta("s", "ns")
		m.ResourceVersion = "1"
		return &corev1.Secret{ObjectMeta: m, Type: typ, Immutable: immutable, Data: map[string][]byte{"k": []byte(v)}}
	}
	frozen := "Forbidden: field is immutable when `immutable` is set"
	yes, no := ptrTo(true), ptrTo(false)
	tests := []struct {
		name string
		errs field.ErrorList
		want []string
	}{
		{"config map: immutable kept, nothing changed", ConfigMapUpdate(cm(yes, "a", "x"), cm(yes, "a", "x")), nil},
		{"config map: data", ConfigMapUpdate(cm(yes, "b", "x"), cm(yes, "a", "x")), []string{"data: " + frozen}},
		{"config map: binaryData", ConfigMapUpdate(cm(yes, "a", "y"), cm(yes, "a", "x")), []string{"binaryData: " + frozen}},
		{"config map: immutable false", ConfigMapUpdate(cm(no, "a", ""), cm(yes, "a", "")), []string{"immutable: " + frozen}},
		{"config map: immutable left out", ConfigMapUpdate(cm(nil, "a", ""), cm(yes, "a", "")), []string{"immutable: " + frozen}},
		{"config map: mutable one changes", ConfigMapUpdate(cm(no, "b", "y"), cm(no, "a", "x")), nil},
		{"secret: data", SecretUpdate(sec("Opaque", yes, "b"), sec("Opaque", yes, "a")), []string{"data: " + frozen}},
		{"secret: immutable left out", SecretUpdate(sec("Opaque", nil, "a"), sec("Opaque", yes, "a")), []string{"immutable: " + frozen}},
		{"secret: type", SecretUpdate(sec("Opaque", nil, "a"), sec("example.com/custom", nil, "a")),
			[]string{`type: Invalid value: "Opaque": field is immutable`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertMessages(t, tt.errs, tt.want) })
	}
}

func TestNodeUpdate(t *testing.T) {
	node := func(change func(n *corev1.Node)) *corev1.Node {
		n := &corev1.Node{ObjectMeta: meta("n1", "")}
		n.ResourceVersion = "3"
		if change != nil {
			change(n)
		}
		return n
	}
	cidr := func(cidrs ...string) func(n *corev1.Node) {
		return func(n *corev1.Node) { n.Spec.PodCIDRs = cidrs }
	}
	cidrMsg := `spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid`
	tests := []struct {
		name     string
		old, new *corev1.Node
		want     []string
	}{
		{"podCIDR set the first time", node(nil), node(cidr("10.244.1.0/24")), nil},
		{"podCIDR changed", node(cidr("10.244.1.0/24")), node(cidr("10.244.2.0/24")), []string{cidrMsg}},
		{"podCIDR removed", node(cidr("10.244.1.0/24")), node(nil), []string{cidrMsg}},
		{"legacy podCIDR changed", node(func(n *corev1.Node) { n.Spec.PodCIDR = "10.244.1.0/24" }),
			node(func(n *corev1.Node) { n.Spec.PodCIDR = "10.244.9.0/24" }), []string{cidrMsg}},
		{"second family added", node(cidr("10.244.1.0/24")), node(cidr("10.244.1.0/24", "fd00::/64")), []string{cidrMsg}},
		{"providerID set the first time", node(nil), node(func(n *corev1.Node) { n.Spec.ProviderID = "lab://a" }), nil},
		{"providerID changed", node(func(n *corev1.Node) { n.Spec.ProviderID = "lab://a" }),
			node(func(n *corev1.Node) { n.Spec.ProviderID = "lab://b" }),
			[]string{`spec.providerID: Forbidden: node updates may not change providerID except from "" to valid`}},
		{"taints and unschedulable may change", node(nil), node(func(n *corev1.Node) {
			n.Spec.Unschedulable = true
			n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}
		}), nil},
		{"duplicate address", node(nil), node(func(n *corev1.Node) {
			a := corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}
			n.Status.Addresses = []corev1.NodeAddress{a, a}
		}), []string{`status.addresses[1]: Duplicate value: {"type":"InternalIP","address":"10.0.0.1"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertMessages(t, NodeUpdate(tt.new, tt.old), tt.want) })
	}
}

func TestMirrorPodAnnotationIsFixedAtCreation(t *testing.T) {
	with := func(v string) *corev1.Pod {
		p := storedPod()
		p.Annotations = map[string]string{MirrorPodAnnotation: v}
		return p
	}
	fld := "metadata.annotations[kubernetes.io/config.mirror]: Forbidden: "
	tests := []struct {
		name     string
		old, new *corev1.Pod
		want     []string
	}{
		{"kept", with("h1"), with("h1"), nil},
		{"added", storedPod(), with("h1"), []string{fld + "may not add mirror pod annotation"}},
		{"changed", with("h1"), with("h2"), []string{fld + "may not remove or update mirror pod annotation"}},
		{"removed", with("h1"), storedPod(), []string{fld + "may not remove or update mirror pod annotation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMessages(t, PodUpdate(tt.new, tt.old), tt.want)
			assertMessages(t, PodStatusUpdate(tt.new, tt.old), tt.want)
		})
	}
}
