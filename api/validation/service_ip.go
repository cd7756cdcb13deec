package validation

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const mayNotChangeMsg = "may not change once set"

// clusterIPFields checks clusterIP, clusterIPs, ipFamilies and
// ipFamilyPolicy, which ExternalName services leave unset.
func clusterIPFields(spec *corev1.ServiceSpec, fld *field.Path) field.ErrorList {
	if spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	errs := clusterIPSync(spec, fld.Child("clusterIPs"))
	errs = append(errs, ipFamilyFields(spec, fld)...)
	ipErrs := clusterIPValues(spec.ClusterIPs, fld.Child("clusterIPs"))
	if len(ipErrs) > 0 || len(errs) > 0 {
		// Family checks on bad IPs would only add noise.
		return append(errs, ipErrs...)
	}
	return clusterIPFamilies(spec, fld)
}

// clusterIPSync: clusterIPs[0] is clusterIP (defaults.Service syncs them).
func clusterIPSync(spec *corev1.ServiceSpec, fld *field.Path) field.ErrorList {
	switch {
	case spec.ClusterIP != "" && len(spec.ClusterIPs) == 0:
		return field.ErrorList{field.Required(fld, "")}
	case spec.ClusterIP != "" && spec.ClusterIPs[0] != spec.ClusterIP:
		return field.ErrorList{field.Invalid(fld, spec.ClusterIPs, "first value must match `clusterIP`")}
	case spec.ClusterIP == "" && len(spec.ClusterIPs) > 0:
		return field.ErrorList{field.Invalid(fld, spec.ClusterIPs, "must be empty when `clusterIP` is not specified")}
	}
	return nil
}

func ipFamilyFields(spec *corev1.ServiceSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	families := []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	seen := sets.New[corev1.IPFamily]()
	for i, f := range spec.IPFamilies {
		errs = append(errs, enum(f, fld.Child("ipFamilies").Index(i), families...)...)
		if seen.Has(f) {
			errs = append(errs, field.Duplicate(fld.Child("ipFamilies").Index(i), f))
		}
		seen.Insert(f)
	}
	if p := spec.IPFamilyPolicy; p != nil {
		errs = append(errs, enum(*p, fld.Child("ipFamilyPolicy"), corev1.IPFamilyPolicySingleStack,
			corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack)...)
	}
	if p := spec.IPFamilyPolicy; p != nil && *p == corev1.IPFamilyPolicySingleStack && len(spec.IPFamilies) > 1 {
		errs = append(errs, field.Invalid(fld.Child("ipFamilies"), spec.IPFamilies,
			"must be at most one value when `ipFamilyPolicy` is 'SingleStack'"))
	}
	return errs
}

// clusterIPValues: "None" alone, or up to two valid IPs, one per family.
func clusterIPValues(ips []string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ip := range ips {
		if ip == corev1.ClusterIPNone && i == 0 {
			if len(ips) > 1 {
				errs = append(errs, field.Invalid(fld, ips, "'None' must be the first and only value"))
			}
			continue
		}
		errs = append(errs, validation.IsValidIPForLegacyField(fld.Index(i), ip, true, nil)...)
	}
	if len(ips) > 2 {
		errs = append(errs, field.Invalid(fld, ips, "may only hold up to 2 values"))
	}
	if len(errs) == 0 && len(ips) == 2 && !dualStack(ips) {
		errs = append(errs, field.Invalid(fld, ips, "may specify no more than one IP for each IP family"))
	}
	return errs
}

// clusterIPFamilies: each cluster IP belongs to the family at its index.
func clusterIPFamilies(spec *corev1.ServiceSpec, fld *field.Path) field.ErrorList {
	if headless(spec) {
		return nil
	}
	var errs field.ErrorList
	for i, ip := range spec.ClusterIPs {
		if i >= len(spec.IPFamilies) {
			break
		}
		if want := spec.IPFamilies[i]; ipFamilyOf(ip) != want {
			errs = append(errs, field.Invalid(fld.Child("clusterIPs").Index(i), ip,
				fmt.Sprintf("expected an %s value as indicated by `ipFamilies[%d]`", want, i)))
		}
	}
	return errs
}

func ipFamilyOf(ip string) corev1.IPFamily {
	if a, err := netip.ParseAddr(ip); err == nil && a.Unmap().Is4() {
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

// ServiceUpdate validates an update. Allocated cluster IPs and the primary
// IP family are immutable, except when the service changes to or from
// ExternalName; a secondary IP may be added, or dropped with SingleStack.
func ServiceUpdate(newS, oldS *corev1.Service) field.ErrorList {
	errs := ObjectMetaUpdate(&newS.ObjectMeta, &oldS.ObjectMeta)
	fld := field.NewPath("spec")
	if newS.Spec.Type != corev1.ServiceTypeExternalName && oldS.Spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, clusterIPsUpdate(&newS.Spec, &oldS.Spec, fld)...)
		errs = append(errs, ipFamiliesUpdate(newS.Spec.IPFamilies, oldS.Spec.IPFamilies, fld.Child("ipFamilies"))...)
	}
	if newS.Spec.Type == corev1.ServiceTypeLoadBalancer && oldS.Spec.Type == corev1.ServiceTypeLoadBalancer {
		errs = append(errs, immutablePtr(newS.Spec.LoadBalancerClass, oldS.Spec.LoadBalancerClass, fld.Child("loadBalancerClass"))...)
	}
	return append(errs, Service(newS)...)
}

func clusterIPsUpdate(newSpec, oldSpec *corev1.ServiceSpec, fld *field.Path) field.ErrorList {
	newIPs, oldIPs := newSpec.ClusterIPs, oldSpec.ClusterIPs
	ipsPath := fld.Child("clusterIPs")
	switch {
	case len(oldIPs) == 0:
		return nil
	case len(newIPs) == 0:
		return field.ErrorList{field.Invalid(ipsPath.Index(0), newIPs, "primary clusterIP can not be unset")}
	case newIPs[0] != oldIPs[0]:
		return field.ErrorList{field.Invalid(ipsPath.Index(0), newIPs, mayNotChangeMsg)}
	case len(oldIPs) > 1 && len(newIPs) > 1 && newIPs[1] != oldIPs[1]:
		return field.ErrorList{field.Invalid(ipsPath.Index(1), newIPs, mayNotChangeMsg)}
	case len(oldIPs) > 1 && len(newIPs) == 1 && !singleStack(newSpec):
		return field.ErrorList{field.Invalid(fld.Child("ipFamilyPolicy"), ptrValue(newSpec.IPFamilyPolicy),
			"must be set to 'SingleStack' when releasing the secondary clusterIP")}
	}
	return nil
}

func singleStack(spec *corev1.ServiceSpec) bool {
	return spec.IPFamilyPolicy != nil && *spec.IPFamilyPolicy == corev1.IPFamilyPolicySingleStack
}

func ipFamiliesUpdate(newF, oldF []corev1.IPFamily, fld *field.Path) field.ErrorList {
	if len(oldF) > 0 && len(newF) > 0 && newF[0] != oldF[0] {
		return field.ErrorList{field.Invalid(fld.Index(0), newF, mayNotChangeMsg)}
	}
	return nil
}

func immutablePtr[T comparable](newV, oldV *T, fld *field.Path) field.ErrorList {
	if (newV == nil) != (oldV == nil) || (newV != nil && *newV != *oldV) {
		return field.ErrorList{field.Invalid(fld, ptrValue(newV), immutableMsg)}
	}
	return nil
}

// endpointIP rejects addresses that can never be a service endpoint or
// external IP.
func endpointIP(ip string, fld *field.Path) field.ErrorList {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return nil // reported by the IP syntax check
	}
	a = a.Unmap()
	var msg string
	switch {
	case a.IsUnspecified():
		msg = fmt.Sprintf("may not be unspecified (%s)", ip)
	case a.IsLoopback():
		msg = "may not be in the loopback range (127.0.0.0/8, ::1/128)"
	case a.IsLinkLocalUnicast():
		msg = "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
	case a.IsLinkLocalMulticast():
		msg = "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
	default:
		return nil
	}
	return field.ErrorList{field.Invalid(fld, ip, msg)}
}
