package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// stored is meta of a stored object, for update checks.
func stored(name string) metav1.ObjectMeta {
	m := meta(name, "")
	m.ResourceVersion = "1"
	return m
}

func TestNetworkPolicy(t *testing.T) {
	port := func(p intstr.IntOrString, end *int32) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Port: &p, EndPort: end}
	}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	tests := []struct {
		name string
		rule networkingv1.NetworkPolicyIngressRule
		egress
		want []string
	}{
		{"valid", networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(80), ptrTo[int32](90)),
			port(intstr.FromString("http"), nil)}, From: []networkingv1.NetworkPolicyPeer{{PodSelector: sel, NamespaceSelector: sel},
			{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}}}}, egress{}, nil},
		{"ports", networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(0), nil),
			port(intstr.FromString("http"), ptrTo[int32](90)), port(intstr.FromInt32(100), ptrTo[int32](90)),
			{EndPort: ptrTo[int32](5)}, {Protocol: ptrTo(corev1.Protocol("ICMP"))}}}, egress{},
			[]string{"spec.ingress[0].ports[0].port: Invalid value", "spec.ingress[0].ports[1].endPort: Forbidden",
				"spec.ingress[0].ports[2].endPort: Invalid value", "spec.ingress[0].ports[3].port: Required value",
				"spec.ingress[0].ports[4].protocol: Unsupported value"}},
		{"peers", networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{},
			{PodSelector: sel, IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}},
			{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.0.0.0/8", "11.0.0.0/16", "x"}}},
			{IPBlock: &networkingv1.IPBlock{}}}}, egress{},
			[]string{"spec.ingress[0].from[0]: Required value", "spec.ingress[0].from[1]: Forbidden",
				"spec.ingress[0].from[2].ipBlock.except[0]: Invalid value", "spec.ingress[0].from[2].ipBlock.except[1]: Invalid value",
				"spec.ingress[0].from[2].ipBlock.except[2]: Invalid value", "spec.ingress[0].from[3].ipBlock.cidr: Required value"}},
		{"policy types", networkingv1.NetworkPolicyIngressRule{}, egress{types: []networkingv1.PolicyType{"Ingress", "Egress", "Sideways"}},
			[]string{"spec.policyTypes: Invalid value", "spec.policyTypes[2]: Unsupported value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			np := &networkingv1.NetworkPolicy{ObjectMeta: meta("p", "ns"), Spec: networkingv1.NetworkPolicySpec{
				Ingress: []networkingv1.NetworkPolicyIngressRule{tt.rule}, PolicyTypes: tt.types}}
			assertErrors(t, NetworkPolicy(np), tt.want)
		})
	}
}

// egress carries a test case's policy types.
type egress struct{ types []networkingv1.PolicyType }

func TestIngress(t *testing.T) {
	prefix, exact, odd := networkingv1.PathTypePrefix, networkingv1.PathTypeExact, networkingv1.PathType("Regex")
	svc := func(name string, port networkingv1.ServiceBackendPort) networkingv1.IngressBackend {
		return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: port}}
	}
	path := func(p string, pt *networkingv1.PathType, b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: p, PathType: pt, Backend: b}
	}
	ok := svc("web", networkingv1.ServiceBackendPort{Number: 80})
	tests := []struct {
		name string
		spec networkingv1.IngressSpec
		want []string
	}{
		{"valid", networkingv1.IngressSpec{IngressClassName: ptrTo("nginx"), Rules: []networkingv1.IngressRule{{Host: "*.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				path("/api", &prefix, ok), path("/x", &exact, svc("web", networkingv1.ServiceBackendPort{Name: "http"}))}}}}},
			TLS: []networkingv1.IngressTLS{{Hosts: []string{"a.example.com"}, SecretName: "tls"}}}, nil},
		{"empty", networkingv1.IngressSpec{}, []string{"spec: Invalid value"}},
		{"default backend", networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{}}, []string{"spec.defaultBackend: Invalid value"}},
		{"rules", networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "1.2.3.4"}, {Host: "Bad_Host"},
			{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}},
			{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				path("/", nil, ok), path("a", &prefix, ok), path("/a//b", &exact, ok), path("/", &odd, ok),
				path("/", &prefix, svc("Web", networkingv1.ServiceBackendPort{})),
				path("/", &prefix, svc("web", networkingv1.ServiceBackendPort{Name: "http", Number: 80}))}}}}}},
			[]string{"spec.rules[0].host: Invalid value", "spec.rules[1].host: Invalid value", "spec.rules[2].http.paths: Required value",
				"spec.rules[3].http.paths[0].pathType: Required value", "spec.rules[3].http.paths[1].path: Invalid value",
				"spec.rules[3].http.paths[2].path: Invalid value", "spec.rules[3].http.paths[3].pathType: Unsupported value",
				"spec.rules[3].http.paths[4].backend.service.name: Invalid value", "spec.rules[3].http.paths[4].backend.service.port: Invalid value",
				"spec.rules[3].http.paths[5].backend.service.port: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrors(t, Ingress(&networkingv1.Ingress{ObjectMeta: meta("i", "ns"), Spec: tt.spec}), tt.want)
		})
	}
}

func TestIngressClass(t *testing.T) {
	ns, cluster := networkingv1.IngressClassParametersReferenceScopeNamespace, networkingv1.IngressClassParametersReferenceScopeCluster
	ic := func(controller string, p *networkingv1.IngressClassParametersReference) *networkingv1.IngressClass {
		return &networkingv1.IngressClass{ObjectMeta: stored("c"), Spec: networkingv1.IngressClassSpec{Controller: controller, Parameters: p}}
	}
	assertErrors(t, IngressClass(ic("example.com/ingress", &networkingv1.IngressClassParametersReference{Kind: "K", Name: "n", Scope: &ns, Namespace: ptrTo("x")})), nil)
	assertErrors(t, IngressClass(ic("", nil)), []string{"spec.controller: Required value"})
	assertErrors(t, IngressClass(ic("no-domain", nil)), []string{"spec.controller: Invalid value"})
	assertErrors(t, IngressClass(ic("example.com/i", &networkingv1.IngressClassParametersReference{Scope: &ns})),
		[]string{"spec.parameters.kind: Required value", "spec.parameters.name: Required value", "spec.parameters.namespace: Required value"})
	assertErrors(t, IngressClass(ic("example.com/i", &networkingv1.IngressClassParametersReference{Kind: "K", Name: "n", Scope: &cluster, Namespace: ptrTo("x")})),
		[]string{"spec.parameters.namespace: Forbidden"})
	assertErrors(t, IngressClassUpdate(ic("example.com/b", nil), ic("example.com/a", nil)), []string{"spec.controller: Invalid value"})
}

func TestServiceCIDRAndIPAddress(t *testing.T) {
	sc := func(cidrs ...string) *networkingv1.ServiceCIDR {
		return &networkingv1.ServiceCIDR{ObjectMeta: stored("s"), Spec: networkingv1.ServiceCIDRSpec{CIDRs: cidrs}}
	}
	assertErrors(t, ServiceCIDR(sc("10.96.0.0/12", "fd00::/108")), nil)
	assertErrors(t, ServiceCIDR(sc()), []string{"spec.cidrs: Required value"})
	assertErrors(t, ServiceCIDR(sc("a", "10.0.0.1/8", "10.0.0.0/8")), []string{"spec.cidrs: Too many"})
	assertErrors(t, ServiceCIDR(sc("a", "10.0.0.1/8")), []string{"spec.cidrs[0]: Invalid value", "spec.cidrs[1]: Invalid value"})
	assertErrors(t, ServiceCIDR(sc("10.0.0.0/8", "11.0.0.0/8")), []string{"spec.cidrs: Invalid value"})
	assertErrors(t, ServiceCIDRUpdate(sc("10.96.0.0/12", "fd00::/108"), sc("10.96.0.0/12")), nil)
	assertErrors(t, ServiceCIDRUpdate(sc("10.97.0.0/16"), sc("10.96.0.0/12")), []string{"spec.cidrs: Invalid value"})

	ip := func(name string, ref *networkingv1.ParentReference) *networkingv1.IPAddress {
		return &networkingv1.IPAddress{ObjectMeta: stored(name), Spec: networkingv1.IPAddressSpec{ParentRef: ref}}
	}
	svc := &networkingv1.ParentReference{Resource: "services", Namespace: "default", Name: "web"}
	assertErrors(t, IPAddress(ip("10.96.0.10", svc)), nil)
	assertErrors(t, IPAddress(ip("2001:db8::1", svc)), nil)
	assertErrors(t, IPAddress(ip("2001:DB8::1", svc)), []string{"metadata.name: Invalid value"})
	assertErrors(t, IPAddress(ip("10.96.0.300", nil)), []string{"metadata.name: Invalid value", "spec.parentRef: Required value"})
	assertErrors(t, IPAddress(ip("10.96.0.10", &networkingv1.ParentReference{})),
		[]string{"spec.parentRef.name: Required value", "spec.parentRef.resource: Required value"})
	other := &networkingv1.ParentReference{Resource: "services", Namespace: "default", Name: "db"}
	assertErrors(t, IPAddressUpdate(ip("10.96.0.10", other), ip("10.96.0.10", svc)), []string{"spec.parentRef: Invalid value"})
}

func TestPodDisruptionBudget(t *testing.T) {
	pdb := func(min, max *intstr.IntOrString, policy *policyv1.UnhealthyPodEvictionPolicyType) *policyv1.PodDisruptionBudget {
		return &policyv1.PodDisruptionBudget{ObjectMeta: meta("p", "ns"), Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: min, MaxUnavailable: max, UnhealthyPodEvictionPolicy: policy,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	}
	one, half, over, neg := intstr.FromInt32(1), intstr.FromString("50%"), intstr.FromString("101%"), intstr.FromInt32(-1)
	always, odd := policyv1.AlwaysAllow, policyv1.UnhealthyPodEvictionPolicyType("Never")
	assertErrors(t, PodDisruptionBudget(pdb(&one, nil, &always)), nil)
	assertErrors(t, PodDisruptionBudget(pdb(nil, &half, nil)), nil)
	assertErrors(t, PodDisruptionBudget(pdb(&one, &half, nil)), []string{"spec: Invalid value"})
	assertErrors(t, PodDisruptionBudget(pdb(&over, nil, &odd)),
		[]string{"spec.minAvailable: Invalid value", "spec.unhealthyPodEvictionPolicy: Unsupported value"})
	assertErrors(t, PodDisruptionBudget(pdb(nil, &neg, nil)), []string{"spec.maxUnavailable: Invalid value"})
}
