package validation

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// loadBalancerFields: the fields that only a LoadBalancer service may set.
func loadBalancerFields(spec *corev1.ServiceSpec, fld *field.Path) field.ErrorList {
	isLB := spec.Type == corev1.ServiceTypeLoadBalancer
	var errs field.ErrorList
	if len(spec.LoadBalancerSourceRanges) > 0 {
		errs = append(errs, sourceRanges(spec.LoadBalancerSourceRanges, isLB, fld)...)
	}
	if spec.AllocateLoadBalancerNodePorts != nil && !isLB {
		errs = append(errs, field.Forbidden(fld.Child("allocateLoadBalancerNodePorts"), onlyLoadBalancerMsg))
	}
	if isLB && spec.AllocateLoadBalancerNodePorts == nil {
		errs = append(errs, field.Required(fld.Child("allocateLoadBalancerNodePorts"), ""))
	}
	if spec.LoadBalancerClass != nil {
		if !isLB {
			errs = append(errs, field.Forbidden(fld.Child("loadBalancerClass"), onlyLoadBalancerMsg))
		}
		errs = append(errs, qualifiedName(*spec.LoadBalancerClass, fld.Child("loadBalancerClass"))...)
	}
	return errs
}

func sourceRanges(ranges []string, isLB bool, fld *field.Path) field.ErrorList {
	// kube-apiserver reports this field with a capital L; we match it.
	path := fld.Child("LoadBalancerSourceRanges")
	var errs field.ErrorList
	if !isLB {
		errs = append(errs, field.Forbidden(path, onlyLoadBalancerMsg))
	}
	for i, r := range ranges {
		// Values may be space-padded, a leftover of the annotation they replaced.
		errs = append(errs, validation.IsValidCIDRForLegacyField(path.Index(i), strings.TrimSpace(r), true, nil)...)
	}
	return errs
}

// trafficPolicies: externalTrafficPolicy is for externally reachable
// services only, healthCheckNodePort for Local LoadBalancers only, and every
// service but ExternalName has an internalTrafficPolicy.
func trafficPolicies(spec *corev1.ServiceSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	etp := fld.Child("externalTrafficPolicy")
	if externallyAccessible(spec) {
		errs = append(errs, enum(spec.ExternalTrafficPolicy, etp,
			corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal)...)
	} else if spec.ExternalTrafficPolicy != "" {
		errs = append(errs, field.Invalid(etp, spec.ExternalTrafficPolicy, "may only be set for externally-accessible services"))
	}
	if spec.HealthCheckNodePort != 0 {
		errs = append(errs, healthCheckNodePort(spec, fld.Child("healthCheckNodePort"))...)
	}
	itp := fld.Child("internalTrafficPolicy")
	switch {
	case spec.InternalTrafficPolicy == nil && spec.Type != corev1.ServiceTypeExternalName:
		errs = append(errs, field.Required(itp, ""))
	case spec.InternalTrafficPolicy != nil:
		errs = append(errs, enum(*spec.InternalTrafficPolicy, itp,
			corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal)...)
	}
	return errs
}

func healthCheckNodePort(spec *corev1.ServiceSpec, fld *field.Path) field.ErrorList {
	needsHealthCheck := spec.Type == corev1.ServiceTypeLoadBalancer &&
		spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	if !needsHealthCheck {
		return field.ErrorList{field.Invalid(fld, spec.HealthCheckNodePort,
			"may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'")}
	}
	return portNum(spec.HealthCheckNodePort, fld)
}

// externallyAccessible: NodePort, LoadBalancer, or ClusterIP with external
// IPs.
func externallyAccessible(spec *corev1.ServiceSpec) bool {
	switch spec.Type {
	case corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
		return true
	case corev1.ServiceTypeClusterIP:
		return len(spec.ExternalIPs) > 0
	}
	return false
}
