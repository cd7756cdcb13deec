package validation

import (
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Endpoints validates v1 Endpoints as kube does: every subset has an
// address (ready or not), each address a valid IP that may be an endpoint
// (not unspecified, loopback or link-local), an optional DNS-label
// hostname and node name; ports are named when a subset has more than
// one, with a valid number and protocol.
func Endpoints(ep *corev1.Endpoints) field.ErrorList {
	errs := ObjectMeta(&ep.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	return append(errs, endpointSubsets(ep.Subsets, field.NewPath("subsets"))...)
}

func endpointSubsets(subsets []corev1.EndpointSubset, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range subsets {
		ss := &subsets[i]
		idx := fld.Index(i)
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(idx, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j := range ss.Addresses {
			errs = append(errs, endpointsAddress(&ss.Addresses[j], idx.Child("addresses").Index(j))...)
		}
		for j := range ss.NotReadyAddresses {
			errs = append(errs, endpointsAddress(&ss.NotReadyAddresses[j], idx.Child("notReadyAddresses").Index(j))...)
		}
		for j := range ss.Ports {
			errs = append(errs, endpointsPort(&ss.Ports[j], len(ss.Ports) > 1, idx.Child("ports").Index(j))...)
		}
	}
	return errs
}

func endpointsAddress(a *corev1.EndpointAddress, fld *field.Path) field.ErrorList {
	errs := validation.IsValidIPForLegacyField(fld.Child("ip"), a.IP, true, nil)
	if a.Hostname != "" {
		errs = append(errs, dnsLabel(a.Hostname, fld.Child("hostname"))...)
	}
	if a.NodeName != nil {
		errs = append(errs, dnsSubdomain(*a.NodeName, fld.Child("nodeName"))...)
	}
	return append(errs, endpointIP(a.IP, fld.Child("ip"))...)
}

func endpointsPort(p *corev1.EndpointPort, requireName bool, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case requireName && p.Name == "":
		errs = append(errs, field.Required(fld.Child("name"), ""))
	case p.Name != "":
		errs = append(errs, dnsLabel(p.Name, fld.Child("name"))...)
	}
	errs = append(errs, portNum(p.Port, fld.Child("port"))...)
	errs = append(errs, enum(p.Protocol, fld.Child("protocol"), portProtocols()...)...)
	if p.AppProtocol != nil {
		errs = append(errs, qualifiedName(*p.AppProtocol, fld.Child("appProtocol"))...)
	}
	return errs
}
