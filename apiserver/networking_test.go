package apiserver

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
)

// The server starts with the "kubernetes" ServiceCIDR from
// --service-cluster-ip-range, Ready, which kube-proxy (system:kube-proxy)
// may list and watch but not change.
func TestDefaultServiceCIDR(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), 0, func(c *Config) { c.ServiceClusterIPRange = "10.100.0.0/16" })
	sc, err := ts.admin(t).NetworkingV1().ServiceCIDRs().Get(bg, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Spec.CIDRs) != 1 || sc.Spec.CIDRs[0] != "10.100.0.0/16" || len(sc.Status.Conditions) != 1 ||
		sc.Status.Conditions[0].Type != "Ready" || sc.Status.Conditions[0].Status != metav1.ConditionTrue {
		t.Errorf("default ServiceCIDR: %+v", sc)
	}
	proxy := ts.impersonating(t, "", rest.ImpersonationConfig{UserName: "system:kube-proxy"}).NetworkingV1().ServiceCIDRs()
	if l, err := proxy.List(bg, metav1.ListOptions{}); err != nil || len(l.Items) != 1 {
		t.Errorf("kube-proxy lists ServiceCIDRs: %v %+v", err, l)
	}
	extra := &networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: "extra"},
		Spec: networkingv1.ServiceCIDRSpec{CIDRs: []string{"10.200.0.0/24"}}}
	if _, err := proxy.Create(bg, extra, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("kube-proxy created a ServiceCIDR: %v", err)
	}
	cidrs := ts.admin(t).NetworkingV1().ServiceCIDRs()
	extra.Spec.CIDRs = []string{"10.200.0.1/24"}
	_, err = cidrs.Create(bg, extra, metav1.CreateOptions{})
	wantInvalidParts(t, err, `spec.cidrs[0]: Invalid value: "10.200.0.1/24": must be in canonical form ("10.200.0.0/24")`)
	sc.Spec.CIDRs = []string{"10.101.0.0/16"}
	_, err = cidrs.Update(bg, sc, metav1.UpdateOptions{})
	wantInvalidParts(t, err, `spec.cidrs: Invalid value: ["10.101.0.0/16"]: field is immutable`)
}

// Ingresses, NetworkPolicies and PodDisruptionBudgets are stored with
// kube's defaults and refused with kube's field paths.
func TestNetworkingAndPolicyObjects(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	cs := ts.admin(t)
	prefix := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: networkingv1.IngressSpec{
		Rules: []networkingv1.IngressRule{{Host: "web.example.com", IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web",
					Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}}}
	if _, err := cs.NetworkingV1().Ingresses("default").Create(bg, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bad := ing.DeepCopy()
	bad.Name = "bad"
	bad.Spec.Rules[0].Host = "10.0.0.1"
	bad.Spec.Rules[0].HTTP.Paths[0].Path = "relative"
	_, err := cs.NetworkingV1().Ingresses("default").Create(bg, bad, metav1.CreateOptions{})
	wantInvalidParts(t, err, `spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address`,
		`spec.rules[0].http.paths[0].path: Invalid value: "relative": must be an absolute path`)

	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Port: ptr(intstr.FromInt32(5432))}},
			From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}}}}}
	got, err := cs.NetworkingV1().NetworkPolicies("default").Create(bg, np, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Spec.PolicyTypes) != 1 || got.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress ||
		got.Spec.Ingress[0].Ports[0].Protocol == nil || *got.Spec.Ingress[0].Ports[0].Protocol != "TCP" {
		t.Errorf("NetworkPolicy defaults: %+v", got.Spec)
	}
	np.Name = "open"
	np.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{}}
	_, err = cs.NetworkingV1().NetworkPolicies("default").Create(bg, np, metav1.CreateOptions{})
	wantInvalidParts(t, err, `spec.ingress[0].from[0]: Required value: must specify a peer`)

	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: policyv1.PodDisruptionBudgetSpec{
		MinAvailable: ptr(intstr.FromInt32(1)), MaxUnavailable: ptr(intstr.FromString("150%")),
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	_, err = cs.PolicyV1().PodDisruptionBudgets("default").Create(bg, pdb, metav1.CreateOptions{})
	wantInvalidParts(t, err, `spec: Invalid value: `, `minAvailable and maxUnavailable cannot be both set`,
		`spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%`)
	pdb.Spec.MaxUnavailable = nil
	pdb.Status.DisruptionsAllowed = 5
	got2, err := cs.PolicyV1().PodDisruptionBudgets("default").Create(bg, pdb, metav1.CreateOptions{})
	if err != nil || got2.Status.DisruptionsAllowed != 0 {
		t.Errorf("PDB create (status is the controller's): %v %+v", err, got2)
	}
}
