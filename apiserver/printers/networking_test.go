package printers

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestNetworkingPrinters(t *testing.T) {
	class := "nginx"
	ing := &networkingv1.Ingress{ObjectMeta: objectMeta("web"), Spec: networkingv1.IngressSpec{IngressClassName: &class,
		Rules: []networkingv1.IngressRule{{Host: "a.example.com"}, {}, {Host: "c"}, {Host: "d"}},
		TLS:   []networkingv1.IngressTLS{{Hosts: []string{"a.example.com"}}}},
		Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{
			Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}, {Hostname: "lb.example.com"}}}}}
	checkCells(t, row(t, "ingresses", ing), []interface{}{"web", "nginx", "a.example.com,*,c + 1 more...",
		"192.0.2.1,lb.example.com", "80, 443", "10m"})
	np := &networkingv1.NetworkPolicy{ObjectMeta: objectMeta("db"), Spec: networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}}
	checkCells(t, row(t, "networkpolicies", np), []interface{}{"db", "app=db", "10m"})
	group := "example.com"
	ic := &networkingv1.IngressClass{ObjectMeta: objectMeta("lab"), Spec: networkingv1.IngressClassSpec{Controller: "example.com/c",
		Parameters: &networkingv1.IngressClassParametersReference{APIGroup: &group, Kind: "Params", Name: "p"}}}
	checkCells(t, row(t, "ingressclasses", ic), []interface{}{"lab", "example.com/c", "Params.example.com/p", "10m"})
	sc := &networkingv1.ServiceCIDR{ObjectMeta: objectMeta("kubernetes"), Spec: networkingv1.ServiceCIDRSpec{CIDRs: []string{"10.96.0.0/12", "fd00::/108"}}}
	checkCells(t, row(t, "servicecidrs", sc), []interface{}{"kubernetes", "10.96.0.0/12,fd00::/108", "10m"})
	ip := &networkingv1.IPAddress{ObjectMeta: objectMeta("10.96.0.10"), Spec: networkingv1.IPAddressSpec{
		ParentRef: &networkingv1.ParentReference{Resource: "services", Namespace: "kube-system", Name: "kube-dns"}}}
	checkCells(t, row(t, "ipaddresses", ip), []interface{}{"10.96.0.10", "services/kube-system/kube-dns"})
	one := intstr.FromInt32(1)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: objectMeta("web"), Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &one},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 2}}
	checkCells(t, row(t, "poddisruptionbudgets", pdb), []interface{}{"web", "1", "N/A", int64(2), "10m"})
}
