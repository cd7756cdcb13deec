package apiserver

import (
	"context"
	"net/netip"

	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/api/defaults"
	"github.com/nodeagent/nodeagent/api/validation"
)

var (
	networkingV1 = networkingv1.SchemeGroupVersion
	policyV1     = policyv1.SchemeGroupVersion
)

// defaultServiceCIDRName is the ServiceCIDR kube-apiserver makes from
// --service-cluster-ip-range.
const defaultServiceCIDRName = "kubernetes"

// networkingResources are networking.k8s.io/v1 and policy/v1: objects that
// ordinary YAML carries and the server stores for the components that act
// on them (an ingress controller, a network plugin that enforces policies,
// kube-proxy reading the ServiceCIDRs, an eviction-aware drain).
func networkingResources() []*resource {
	none := func(runtime.Object) {}
	return []*resource{
		{gvk: networkingV1.WithKind("NetworkPolicy"), plural: "networkpolicies", singular: "networkpolicy", shortNames: []string{"netpol"},
			namespaced: true,
			newObj:     func() runtime.Object { return &networkingv1.NetworkPolicy{} }, newList: func() runtime.Object { return &networkingv1.NetworkPolicyList{} },
			strategy: strategy{defaults: typed(defaults.NetworkPolicy), validate: typedV(validation.NetworkPolicy),
				validateUpdate: typedU(validation.NetworkPolicyUpdate)}},
		{gvk: networkingV1.WithKind("Ingress"), plural: "ingresses", singular: "ingress", shortNames: []string{"ing"},
			namespaced: true, subresources: []string{"status"},
			newObj: func() runtime.Object { return &networkingv1.Ingress{} }, newList: func() runtime.Object { return &networkingv1.IngressList{} },
			strategy: withStatus(strategy{defaults: none, validate: typedV(validation.Ingress), validateUpdate: typedU(validation.IngressUpdate),
				prepareCreate: typed(func(i *networkingv1.Ingress) { i.Status = networkingv1.IngressStatus{} })})},
		{gvk: networkingV1.WithKind("IngressClass"), plural: "ingressclasses", singular: "ingressclass",
			newObj: func() runtime.Object { return &networkingv1.IngressClass{} }, newList: func() runtime.Object { return &networkingv1.IngressClassList{} },
			strategy: strategy{defaults: none, validate: typedV(validation.IngressClass), validateUpdate: typedU(validation.IngressClassUpdate)}},
		{gvk: networkingV1.WithKind("ServiceCIDR"), plural: "servicecidrs", singular: "servicecidr", subresources: []string{"status"},
			newObj: func() runtime.Object { return &networkingv1.ServiceCIDR{} }, newList: func() runtime.Object { return &networkingv1.ServiceCIDRList{} },
			strategy: withStatus(strategy{defaults: none, validate: typedV(validation.ServiceCIDR), validateUpdate: typedU(validation.ServiceCIDRUpdate),
				prepareCreate: typed(func(sc *networkingv1.ServiceCIDR) { sc.Status = networkingv1.ServiceCIDRStatus{} })})},
		{gvk: networkingV1.WithKind("IPAddress"), plural: "ipaddresses", singular: "ipaddress", shortNames: []string{"ip"},
			newObj: func() runtime.Object { return &networkingv1.IPAddress{} }, newList: func() runtime.Object { return &networkingv1.IPAddressList{} },
			strategy: strategy{defaults: none, validate: typedV(validation.IPAddress), validateUpdate: typedU(validation.IPAddressUpdate)}},
		{gvk: policyV1.WithKind("PodDisruptionBudget"), plural: "poddisruptionbudgets", singular: "poddisruptionbudget", shortNames: []string{"pdb"},
			namespaced: true, subresources: []string{"status"},
			newObj: func() runtime.Object { return &policyv1.PodDisruptionBudget{} }, newList: func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} },
			strategy: withStatus(strategy{defaults: none, validate: typedV(validation.PodDisruptionBudget), validateUpdate: typedU(validation.PodDisruptionBudgetUpdate),
				prepareCreate: typed(func(p *policyv1.PodDisruptionBudget) { p.Status = policyv1.PodDisruptionBudgetStatus{} })})},
	}
}

// ensureDefaultServiceCIDR creates the "kubernetes" ServiceCIDR from
// --service-cluster-ip-range when missing, Ready, as kube-apiserver does at
// start: kube-proxy waits for ServiceCIDRs before it programs anything.
func (s *Server) ensureDefaultServiceCIDR(ctx context.Context) error {
	p, err := netip.ParsePrefix(s.cfg.ServiceClusterIPRange)
	if err != nil {
		return err
	}
	sc := &networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: defaultServiceCIDRName},
		Spec: networkingv1.ServiceCIDRSpec{CIDRs: []string{p.Masked().String()}}}
	sc.Status.Conditions = []metav1.Condition{{Type: networkingv1.ServiceCIDRConditionReady, Status: metav1.ConditionTrue,
		LastTransitionTime: metav1.NewTime(s.now()), Reason: "", Message: "Kubernetes Service CIDR is ready"}}
	return s.ensureObject(ctx, sc)
}
