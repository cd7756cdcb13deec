package validation

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	// maxClientIPAffinitySeconds bounds sessionAffinityConfig's timeout.
	maxClientIPAffinitySeconds = 86400
	onlyLoadBalancerMsg        = "may only be used when `type` is 'LoadBalancer'"
)

func serviceTypes() []corev1.ServiceType {
	return []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeExternalName,
		corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort}
}

// Service validates a service on create. Its name is a DNS-1123 label
// (kube's RelaxedServiceNameValidation, GA in 1.37).
func Service(s *corev1.Service) field.ErrorList {
	errs := ObjectMeta(&s.ObjectMeta, true, apimachineryvalidation.NameIsDNSLabel)
	spec, fld := &s.Spec, field.NewPath("spec")
	errs = append(errs, enum(spec.Type, fld.Child("type"), serviceTypes()...)...)
	if len(spec.Ports) == 0 && !headless(spec) && spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(fld.Child("ports"), ""))
	}
	errs = append(errs, serviceTypeRules(spec, fld)...)
	errs = append(errs, servicePorts(spec, fld.Child("ports"))...)
	if spec.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabels(spec.Selector, fld.Child("selector"))...)
	}
	errs = append(errs, sessionAffinity(spec, fld)...)
	errs = append(errs, clusterIPFields(spec, fld)...)
	errs = append(errs, externalIPs(spec.ExternalIPs, fld.Child("externalIPs"))...)
	errs = append(errs, loadBalancerFields(spec, fld)...)
	return append(errs, trafficPolicies(spec, fld)...)
}

func headless(spec *corev1.ServiceSpec) bool { return spec.ClusterIP == corev1.ClusterIPNone }

// serviceTypeRules holds what depends on the type: NodePort and LoadBalancer
// services cannot be headless, ExternalName ones have a name and no IPs.
func serviceTypeRules(spec *corev1.ServiceSpec, fld *field.Path) field.ErrorList {
	switch spec.Type {
	case corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
		if headless(spec) && len(spec.ClusterIPs) > 0 {
			return field.ErrorList{field.Invalid(fld.Child("clusterIPs").Index(0), spec.ClusterIPs[0],
				fmt.Sprintf("may not be set to 'None' for %s services", spec.Type))}
		}
	case corev1.ServiceTypeExternalName:
		return externalName(spec, fld)
	}
	return nil
}

func externalName(spec *corev1.ServiceSpec, fld *field.Path) field.ErrorList {
	const msg = "may not be set for ExternalName services"
	var errs field.ErrorList
	if len(spec.ClusterIPs) > 0 || spec.ClusterIP != "" {
		errs = append(errs, field.Forbidden(fld.Child("clusterIPs"), msg))
	}
	if len(spec.IPFamilies) > 0 {
		errs = append(errs, field.Forbidden(fld.Child("ipFamilies"), msg))
	}
	if spec.IPFamilyPolicy != nil {
		errs = append(errs, field.Forbidden(fld.Child("ipFamilyPolicy"), msg))
	}
	// A trailing dot marks the name as fully qualified.
	cname := strings.TrimSuffix(spec.ExternalName, ".")
	if cname == "" {
		return append(errs, field.Required(fld.Child("externalName"), ""))
	}
	return append(errs, dnsSubdomain(cname, fld.Child("externalName"))...)
}

// servicePorts checks each port, and that no two share a name, a
// (protocol, port) or a (protocol, nodePort).
func servicePorts(spec *corev1.ServiceSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	names, ports, nodePorts := sets.New[string](), sets.New[string](), sets.New[string]()
	for i, p := range spec.Ports {
		idx := fld.Index(i)
		errs = append(errs, servicePort(p, len(spec.Ports) > 1, names, idx)...)
		errs = append(errs, nodePort(p.NodePort, spec.Type, idx.Child("nodePort"))...)
		if key := fmt.Sprintf("%s/%d", p.Protocol, p.Port); ports.Has(key) {
			errs = append(errs, field.Duplicate(idx, corev1.ServicePort{Protocol: p.Protocol, Port: p.Port}))
		} else {
			ports.Insert(key)
		}
		if key := fmt.Sprintf("%s/%d", p.Protocol, p.NodePort); p.NodePort != 0 && nodePorts.Has(key) {
			errs = append(errs, field.Duplicate(idx.Child("nodePort"), p.NodePort))
		} else {
			nodePorts.Insert(key)
		}
	}
	return errs
}

// servicePort: names (DNS-1123 labels) are required once there are two
// ports; targetPort is a port number or an IANA_SVC_NAME.
func servicePort(p corev1.ServicePort, nameRequired bool, names sets.Set[string], fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case p.Name == "" && nameRequired:
		errs = append(errs, field.Required(fld.Child("name"), ""))
	case p.Name != "":
		errs = append(errs, dnsLabel(p.Name, fld.Child("name"))...)
		if names.Has(p.Name) {
			errs = append(errs, field.Duplicate(fld.Child("name"), p.Name))
		}
		names.Insert(p.Name)
	}
	errs = append(errs, portNum(p.Port, fld.Child("port"))...)
	errs = append(errs, enum(p.Protocol, fld.Child("protocol"), portProtocols()...)...)
	errs = append(errs, portNumOrName(p.TargetPort, fld.Child("targetPort"))...)
	if p.AppProtocol != nil {
		errs = append(errs, qualifiedName(*p.AppProtocol, fld.Child("appProtocol"))...)
	}
	return errs
}

// nodePort: only NodePort and LoadBalancer services have node ports.
func nodePort(port int32, t corev1.ServiceType, fld *field.Path) field.ErrorList {
	if port == 0 {
		return nil
	}
	if t != corev1.ServiceTypeNodePort && t != corev1.ServiceTypeLoadBalancer {
		return field.ErrorList{field.Forbidden(fld, fmt.Sprintf("may not be used when `type` is '%s'", t))}
	}
	return portNum(port, fld)
}

func sessionAffinity(spec *corev1.ServiceSpec, fld *field.Path) field.ErrorList {
	errs := enum(spec.SessionAffinity, fld.Child("sessionAffinity"),
		corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone)
	cfgPath := fld.Child("sessionAffinityConfig")
	switch spec.SessionAffinity {
	case corev1.ServiceAffinityNone:
		if spec.SessionAffinityConfig != nil {
			errs = append(errs, field.Forbidden(cfgPath, "must not be set when session affinity is None"))
		}
	case corev1.ServiceAffinityClientIP:
		errs = append(errs, clientIPConfig(spec.SessionAffinityConfig, cfgPath)...)
	}
	return errs
}

func clientIPConfig(c *corev1.SessionAffinityConfig, fld *field.Path) field.ErrorList {
	const msg = "when session affinity type is ClientIP"
	switch {
	case c == nil:
		return field.ErrorList{field.Required(fld, msg)}
	case c.ClientIP == nil:
		return field.ErrorList{field.Required(fld.Child("clientIP"), msg)}
	case c.ClientIP.TimeoutSeconds == nil:
		return field.ErrorList{field.Required(fld.Child("clientIP", "timeoutSeconds"), msg)}
	}
	if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPAffinitySeconds {
		return field.ErrorList{field.Invalid(fld.Child("clientIP", "timeoutSeconds"), t,
			fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds))}
	}
	return nil
}

func externalIPs(ips []string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ip := range ips {
		if ipErrs := validation.IsValidIPForLegacyField(fld.Index(i), ip, true, nil); len(ipErrs) > 0 {
			errs = append(errs, ipErrs...)
			continue
		}
		errs = append(errs, endpointIP(ip, fld.Index(i))...)
	}
	return errs
}
