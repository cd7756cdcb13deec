package validation

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NetworkPolicy validates a networking.k8s.io/v1 NetworkPolicy as
// kube-apiserver does: the pod selector, every rule's ports and peers, the
// policy types. The server stores policies; enforcing them is the network
// plugin's work, as in kube.
func NetworkPolicy(np *networkingv1.NetworkPolicy) field.ErrorList {
	errs := ObjectMeta(&np.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	spec := field.NewPath("spec")
	errs = append(errs, metav1validation.ValidateLabelSelector(&np.Spec.PodSelector,
		metav1validation.LabelSelectorValidationOptions{}, spec.Child("podSelector"))...)
	for i, rule := range np.Spec.Ingress {
		fld := spec.Child("ingress").Index(i)
		errs = append(errs, networkPolicyPorts(rule.Ports, fld.Child("ports"))...)
		for j := range rule.From {
			errs = append(errs, networkPolicyPeer(&rule.From[j], fld.Child("from").Index(j))...)
		}
	}
	for i, rule := range np.Spec.Egress {
		fld := spec.Child("egress").Index(i)
		errs = append(errs, networkPolicyPorts(rule.Ports, fld.Child("ports"))...)
		for j := range rule.To {
			errs = append(errs, networkPolicyPeer(&rule.To[j], fld.Child("to").Index(j))...)
		}
	}
	types := spec.Child("policyTypes")
	for i, t := range np.Spec.PolicyTypes {
		errs = append(errs, enum(t, types.Index(i), networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)...)
	}
	if len(np.Spec.PolicyTypes) > 2 {
		errs = append(errs, field.Invalid(types, np.Spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	return errs
}

// NetworkPolicyUpdate validates an update: every field may change.
func NetworkPolicyUpdate(np, old *networkingv1.NetworkPolicy) field.ErrorList {
	return append(ObjectMetaUpdate(&np.ObjectMeta, &old.ObjectMeta), NetworkPolicy(np)...)
}

func networkPolicyPorts(ports []networkingv1.NetworkPolicyPort, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, p := range ports {
		pf := fld.Index(i)
		if p.Protocol != nil {
			errs = append(errs, enum(*p.Protocol, pf.Child("protocol"), corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP)...)
		}
		if p.Port != nil {
			errs = append(errs, portNumOrName(*p.Port, pf.Child("port"))...)
		}
		if p.EndPort != nil {
			errs = append(errs, networkPolicyEndPort(p, pf)...)
		}
	}
	return errs
}

// networkPolicyEndPort: an end port needs a numeric start at or below it.
func networkPolicyEndPort(p networkingv1.NetworkPolicyPort, fld *field.Path) field.ErrorList {
	end := fld.Child("endPort")
	switch {
	case p.Port == nil:
		return field.ErrorList{field.Required(fld.Child("port"), "must be specified when endPort is specified")}
	case p.Port.Type == intstr.String:
		return field.ErrorList{field.Forbidden(end, "may not be specified when `port` is non-numeric")}
	case *p.EndPort < p.Port.IntVal:
		return field.ErrorList{field.Invalid(end, *p.EndPort, "must be greater than or equal to `port`")}
	}
	return portNum(*p.EndPort, end)
}

func networkPolicyPeer(p *networkingv1.NetworkPolicyPeer, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	opts := metav1validation.LabelSelectorValidationOptions{}
	if p.PodSelector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(p.PodSelector, opts, fld.Child("podSelector"))...)
	}
	if p.NamespaceSelector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(p.NamespaceSelector, opts, fld.Child("namespaceSelector"))...)
	}
	selectors := p.PodSelector != nil || p.NamespaceSelector != nil
	switch {
	case p.IPBlock != nil && selectors:
		errs = append(errs, field.Forbidden(fld, "may not specify both ipBlock and another peer"))
	case p.IPBlock != nil:
		errs = append(errs, ipBlock(p.IPBlock, fld.Child("ipBlock"))...)
	case !selectors:
		errs = append(errs, field.Required(fld, "must specify a peer"))
	}
	return errs
}

// ipBlock: a CIDR, and exceptions strictly inside it.
func ipBlock(b *networkingv1.IPBlock, fld *field.Path) field.ErrorList {
	cf := fld.Child("cidr")
	if b.CIDR == "" {
		return field.ErrorList{field.Required(cf, "")}
	}
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return field.ErrorList{field.Invalid(cf, b.CIDR, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")}
	}
	var errs field.ErrorList
	for i, e := range b.Except {
		ef := fld.Child("except").Index(i)
		ex, err := netip.ParsePrefix(e)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(ef, e, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
		case ex.Bits() <= cidr.Bits() || !cidr.Contains(ex.Addr()):
			errs = append(errs, field.Invalid(ef, e, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}

// Ingress validates a networking.k8s.io/v1 Ingress: a default backend or
// rules, hosts as DNS names (a leading "*." allowed), paths by their type,
// backends naming a service port or a resource.
func Ingress(ing *networkingv1.Ingress) field.ErrorList {
	errs := ObjectMeta(&ing.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	spec := field.NewPath("spec")
	if len(ing.Spec.Rules) == 0 && ing.Spec.DefaultBackend == nil {
		errs = append(errs, field.Invalid(spec, ing.Spec.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if ing.Spec.DefaultBackend != nil {
		errs = append(errs, ingressBackend(ing.Spec.DefaultBackend, spec.Child("defaultBackend"))...)
	}
	if c := ing.Spec.IngressClassName; c != nil {
		errs = append(errs, dnsSubdomain(*c, spec.Child("ingressClassName"))...)
	}
	for i, r := range ing.Spec.Rules {
		fld := spec.Child("rules").Index(i)
		if r.Host != "" {
			errs = append(errs, ingressHost(r.Host, fld.Child("host"))...)
		}
		if r.HTTP != nil {
			errs = append(errs, ingressHTTP(r.HTTP, fld.Child("http"))...)
		}
	}
	for i, t := range ing.Spec.TLS {
		for j, h := range t.Hosts {
			errs = append(errs, ingressHost(h, spec.Child("tls").Index(i).Child("hosts").Index(j))...)
		}
	}
	return errs
}

// IngressUpdate validates an update: the spec may change.
func IngressUpdate(ing, old *networkingv1.Ingress) field.ErrorList {
	return append(ObjectMetaUpdate(&ing.ObjectMeta, &old.ObjectMeta), Ingress(ing)...)
}

func ingressHost(host string, fld *field.Path) field.ErrorList {
	if _, err := netip.ParseAddr(host); err == nil {
		return field.ErrorList{field.Invalid(fld, host, "must be a DNS name, not an IP address")}
	}
	if strings.Contains(host, "*") {
		return invalids(fld, host, validation.IsWildcardDNS1123Subdomain(host))
	}
	return dnsSubdomain(host, fld)
}

func ingressHTTP(h *networkingv1.HTTPIngressRuleValue, fld *field.Path) field.ErrorList {
	paths := fld.Child("paths")
	if len(h.Paths) == 0 {
		return field.ErrorList{field.Required(paths, "")}
	}
	var errs field.ErrorList
	for i := range h.Paths {
		p := &h.Paths[i]
		pf := paths.Index(i)
		errs = append(errs, ingressPath(p.Path, p.PathType, pf)...)
		errs = append(errs, ingressBackend(&p.Backend, pf.Child("backend"))...)
	}
	return errs
}

// invalidPathParts are what an Exact or Prefix path may not hold.
var invalidPathParts = []string{"//", "/./", "/../", "%2f", "%2F"}

func ingressPath(path string, pathType *networkingv1.PathType, fld *field.Path) field.ErrorList {
	tf := fld.Child("pathType")
	if pathType == nil {
		return field.ErrorList{field.Required(tf, "pathType must be specified")}
	}
	switch *pathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
		if !strings.HasPrefix(path, "/") {
			return field.ErrorList{field.Invalid(fld.Child("path"), path, "must be an absolute path")}
		}
		for _, bad := range invalidPathParts {
			if strings.Contains(path, bad) {
				return field.ErrorList{field.Invalid(fld.Child("path"), path, fmt.Sprintf("must not contain '%s'", bad))}
			}
		}
		for _, bad := range []string{"/..", "/."} {
			if strings.HasSuffix(path, bad) {
				return field.ErrorList{field.Invalid(fld.Child("path"), path, fmt.Sprintf("cannot end with '%s'", bad))}
			}
		}
	case networkingv1.PathTypeImplementationSpecific:
		if path != "" && !strings.HasPrefix(path, "/") {
			return field.ErrorList{field.Invalid(fld.Child("path"), path, "must be an absolute path")}
		}
	default:
		return field.ErrorList{field.NotSupported(tf, *pathType, []string{string(networkingv1.PathTypeExact),
			string(networkingv1.PathTypePrefix), string(networkingv1.PathTypeImplementationSpecific)})}
	}
	return nil
}

func ingressBackend(b *networkingv1.IngressBackend, fld *field.Path) field.ErrorList {
	switch {
	case b.Service == nil && b.Resource == nil:
		return field.ErrorList{field.Invalid(fld, b, "one backend type must be specified")}
	case b.Service != nil && b.Resource != nil:
		return field.ErrorList{field.Invalid(fld, b, "cannot set both service and resource backends")}
	case b.Resource != nil:
		return typedLocalObjectReference(b.Resource, fld.Child("resource"))
	}
	sf := fld.Child("service")
	errs := invalids(sf.Child("name"), b.Service.Name, validation.IsDNS1035Label(b.Service.Name))
	port := b.Service.Port
	pf := sf.Child("port")
	switch {
	case port.Name != "" && port.Number != 0:
		errs = append(errs, field.Invalid(pf, port, "cannot set both port name & port number"))
	case port.Name != "":
		errs = append(errs, invalids(pf.Child("name"), port.Name, validation.IsValidPortName(port.Name))...)
	case port.Number != 0:
		errs = append(errs, portNum(port.Number, pf.Child("number"))...)
	default:
		errs = append(errs, field.Invalid(pf, port, "port name or number is required"))
	}
	return errs
}

func typedLocalObjectReference(r *corev1.TypedLocalObjectReference, fld *field.Path) field.ErrorList {
	return kindNameGroup(r.Kind, r.Name, r.APIGroup, fld)
}

// kindNameGroup checks a reference by kind, name and optional API group:
// kind and name required, the group a DNS subdomain when set.
func kindNameGroup(kind, name string, group *string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if kind == "" {
		errs = append(errs, field.Required(fld.Child("kind"), ""))
	}
	if name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	}
	if group != nil && *group != "" {
		errs = append(errs, dnsSubdomain(*group, fld.Child("apiGroup"))...)
	}
	return errs
}

// IngressClass validates a networking.k8s.io/v1 IngressClass: a controller
// name (a domain-prefixed path), and parameters scoped as they say.
func IngressClass(ic *networkingv1.IngressClass) field.ErrorList {
	errs := ObjectMeta(&ic.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain)
	spec := field.NewPath("spec")
	cf := spec.Child("controller")
	switch {
	case ic.Spec.Controller == "":
		errs = append(errs, field.Required(cf, ""))
	case len(ic.Spec.Controller) > 250:
		errs = append(errs, field.TooLong(cf, "", 250))
	default:
		errs = append(errs, validation.IsDomainPrefixedPath(cf, ic.Spec.Controller)...)
	}
	if p := ic.Spec.Parameters; p != nil {
		errs = append(errs, ingressClassParameters(p, spec.Child("parameters"))...)
	}
	return errs
}

// IngressClassUpdate validates an update: the controller stays.
func IngressClassUpdate(ic, old *networkingv1.IngressClass) field.ErrorList {
	errs := append(ObjectMetaUpdate(&ic.ObjectMeta, &old.ObjectMeta), IngressClass(ic)...)
	if ic.Spec.Controller != old.Spec.Controller {
		errs = append(errs, field.Invalid(field.NewPath("spec", "controller"), ic.Spec.Controller, immutableMsg))
	}
	return errs
}

func ingressClassParameters(p *networkingv1.IngressClassParametersReference, fld *field.Path) field.ErrorList {
	errs := kindNameGroup(p.Kind, p.Name, p.APIGroup, fld)
	scope := networkingv1.IngressClassParametersReferenceScopeCluster
	if p.Scope != nil {
		scope = *p.Scope
		errs = append(errs, enum(scope, fld.Child("scope"), networkingv1.IngressClassParametersReferenceScopeCluster,
			networkingv1.IngressClassParametersReferenceScopeNamespace)...)
	}
	switch {
	case scope == networkingv1.IngressClassParametersReferenceScopeNamespace && (p.Namespace == nil || *p.Namespace == ""):
		errs = append(errs, field.Required(fld.Child("namespace"), "`parameters.scope` is set to 'Namespace'"))
	case scope == networkingv1.IngressClassParametersReferenceScopeCluster && p.Namespace != nil:
		errs = append(errs, field.Forbidden(fld.Child("namespace"), "`parameters.scope` is set to 'Cluster'"))
	case p.Namespace != nil:
		errs = append(errs, dnsLabel(*p.Namespace, fld.Child("namespace"))...)
	}
	return errs
}

// ServiceCIDR validates a networking.k8s.io/v1 ServiceCIDR: one or two
// CIDRs in canonical form, one per IP family.
func ServiceCIDR(sc *networkingv1.ServiceCIDR) field.ErrorList {
	errs := ObjectMeta(&sc.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain)
	fld := field.NewPath("spec", "cidrs")
	switch n := len(sc.Spec.CIDRs); {
	case n == 0:
		return append(errs, field.Required(fld, "at least one CIDR required"))
	case n > 2:
		return append(errs, field.TooMany(fld, n, 2))
	}
	var families [2]bool // v4, v6
	for i, c := range sc.Spec.CIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			errs = append(errs, field.Invalid(fld.Index(i), c, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
			continue
		}
		if p.Masked().String() != c {
			errs = append(errs, field.Invalid(fld.Index(i), c, fmt.Sprintf("must be in canonical form (%q)", p.Masked().String())))
		}
		v6 := 0
		if p.Addr().Is6() {
			v6 = 1
		}
		if families[v6] {
			errs = append(errs, field.Invalid(fld, sc.Spec.CIDRs, "may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64"))
		}
		families[v6] = true
	}
	return errs
}

// ServiceCIDRUpdate validates an update: the CIDRs stay, except that a
// single-stack range may gain its other family.
func ServiceCIDRUpdate(sc, old *networkingv1.ServiceCIDR) field.ErrorList {
	errs := append(ObjectMetaUpdate(&sc.ObjectMeta, &old.ObjectMeta), ServiceCIDR(sc)...)
	kept := len(sc.Spec.CIDRs) >= len(old.Spec.CIDRs) && len(old.Spec.CIDRs) > 0 && sc.Spec.CIDRs[0] == old.Spec.CIDRs[0]
	if len(old.Spec.CIDRs) == 2 {
		kept = kept && len(sc.Spec.CIDRs) == 2 && sc.Spec.CIDRs[1] == old.Spec.CIDRs[1]
	}
	if !kept {
		errs = append(errs, field.Invalid(field.NewPath("spec", "cidrs"), sc.Spec.CIDRs, immutableMsg))
	}
	return errs
}

// IPAddress validates a networking.k8s.io/v1 IPAddress: its name is the
// address in canonical form, and it names its parent.
func IPAddress(ip *networkingv1.IPAddress) field.ErrorList {
	errs := ObjectMeta(&ip.ObjectMeta, false, func(name string, _ bool) []string {
		a, err := netip.ParseAddr(name)
		if err != nil || a.Zone() != "" {
			return []string{"must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"}
		}
		if a.String() != name {
			return []string{fmt.Sprintf("must be in canonical form (%q)", a.String())}
		}
		return nil
	})
	fld := field.NewPath("spec", "parentRef")
	ref := ip.Spec.ParentRef
	if ref == nil {
		return append(errs, field.Required(fld, ""))
	}
	if ref.Group != "" {
		errs = append(errs, dnsSubdomain(ref.Group, fld.Child("group"))...)
	}
	if ref.Resource == "" {
		errs = append(errs, field.Required(fld.Child("resource"), ""))
	} else {
		errs = append(errs, invalids(fld.Child("resource"), ref.Resource, apimachineryvalidation.NameIsDNSSubdomain(ref.Resource, false))...)
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	} else {
		errs = append(errs, invalids(fld.Child("name"), ref.Name, apimachineryvalidation.NameIsDNSSubdomain(ref.Name, false))...)
	}
	if ref.Namespace != "" {
		errs = append(errs, dnsLabel(ref.Namespace, fld.Child("namespace"))...)
	}
	return errs
}

// IPAddressUpdate validates an update: the parent stays.
func IPAddressUpdate(ip, old *networkingv1.IPAddress) field.ErrorList {
	errs := append(ObjectMetaUpdate(&ip.ObjectMeta, &old.ObjectMeta), IPAddress(ip)...)
	return append(errs, immutable(ip.Spec.ParentRef, old.Spec.ParentRef, field.NewPath("spec", "parentRef"))...)
}
