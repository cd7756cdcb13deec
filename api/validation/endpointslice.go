package validation

import (
	discoveryv1 "k8s.io/api/discovery/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits on an EndpointSlice's size.
const (
	maxEndpoints         = 1000
	maxEndpointAddresses = 100
	maxEndpointPorts     = 20000
	maxTopologyLabels    = 16
	noAddressMsg         = "must contain at least 1 address"
)

// EndpointSlice validates an endpoint slice on create: its address type, up
// to 1000 endpoints with addresses of that type, and uniquely named ports.
func EndpointSlice(es *discoveryv1.EndpointSlice) field.ErrorList {
	errs := ObjectMeta(&es.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	errs = append(errs, enum(es.AddressType, field.NewPath("addressType"),
		discoveryv1.AddressTypeFQDN, discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6)...)
	errs = append(errs, endpoints(es.Endpoints, es.AddressType, field.NewPath("endpoints"))...)
	return append(errs, endpointPorts(es.Ports, field.NewPath("ports"))...)
}

func endpoints(eps []discoveryv1.Endpoint, addrType discoveryv1.AddressType, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(eps) > maxEndpoints {
		errs = append(errs, field.TooMany(fld, len(eps), maxEndpoints))
	}
	for i, ep := range eps {
		idx := fld.Index(i)
		errs = append(errs, endpointAddresses(ep.Addresses, addrType, idx.Child("addresses"))...)
		if ep.NodeName != nil {
			errs = append(errs, dnsSubdomain(*ep.NodeName, idx.Child("nodeName"))...)
		}
		if ep.Hostname != nil {
			errs = append(errs, dnsLabel(*ep.Hostname, idx.Child("hostname"))...)
		}
		if len(ep.DeprecatedTopology) > maxTopologyLabels {
			errs = append(errs, field.TooMany(idx.Child("deprecatedTopology"), len(ep.DeprecatedTopology), maxTopologyLabels))
		}
		errs = append(errs, metav1validation.ValidateLabels(ep.DeprecatedTopology, idx.Child("deprecatedTopology"))...)
	}
	return errs
}

// endpointAddresses checks addresses against the slice's address type;
// unknown types are reported on addressType and not checked here.
func endpointAddresses(addrs []string, addrType discoveryv1.AddressType, fld *field.Path) field.ErrorList {
	switch {
	case len(addrs) == 0:
		return field.ErrorList{field.Required(fld, noAddressMsg)}
	case len(addrs) > maxEndpointAddresses:
		return field.ErrorList{field.TooMany(fld, len(addrs), maxEndpointAddresses)}
	}
	var errs field.ErrorList
	for i, a := range addrs {
		errs = append(errs, endpointAddress(a, addrType, fld.Index(i))...)
	}
	return errs
}

func endpointAddress(a string, addrType discoveryv1.AddressType, fld *field.Path) field.ErrorList {
	switch addrType {
	case discoveryv1.AddressTypeFQDN:
		return validation.IsFullyQualifiedDomainName(fld, a)
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
		if errs := validation.IsValidIPForLegacyField(fld, a, true, nil); len(errs) > 0 {
			return errs
		}
		if want := ipFamilyOf(a); string(want) != string(addrType) {
			return field.ErrorList{field.Invalid(fld, a, "must be a valid "+string(addrType)+" address")}
		}
		return endpointIP(a, fld)
	}
	return nil
}

func endpointPorts(ports []discoveryv1.EndpointPort, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(ports) > maxEndpointPorts {
		errs = append(errs, field.TooMany(fld, len(ports), maxEndpointPorts))
	}
	names := sets.New[string]()
	for i, p := range ports {
		idx := fld.Index(i)
		errs = append(errs, endpointPortName(p.Name, names, idx.Child("name"))...)
		if p.Protocol == nil {
			errs = append(errs, field.Required(idx.Child("protocol"), ""))
		} else {
			errs = append(errs, enum(*p.Protocol, idx.Child("protocol"), portProtocols()...)...)
		}
		if p.Port != nil {
			errs = append(errs, portNum(*p.Port, idx.Child("port"))...)
		}
		if p.AppProtocol != nil {
			errs = append(errs, qualifiedName(*p.AppProtocol, idx.Child("appProtocol"))...)
		}
	}
	return errs
}

// endpointPortName: a DNS-1123 label or empty (nil counts as empty), unique
// in the slice.
func endpointPortName(name *string, seen sets.Set[string], fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := ""
	if name != nil {
		n = *name
	}
	if n != "" {
		errs = append(errs, dnsLabel(n, fld)...)
	}
	if seen.Has(n) {
		errs = append(errs, field.Duplicate(fld, n))
	}
	seen.Insert(n)
	return errs
}
