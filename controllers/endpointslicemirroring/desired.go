package endpointslicemirroring

import (
	"fmt"
	"maps"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// ManagedBy is the managed-by label value of mirrored slices (kube's).
	ManagedBy = "endpointslicemirroring-controller.k8s.io"
	// MaxEndpointsPerSubset is kube's default
	// --mirroring-max-endpoints-per-subset.
	MaxEndpointsPerSubset = 1000
	leaderAnnotation      = "control-plane.alpha.kubernetes.io/leader"
)

// ShouldMirror reports whether ep, of service svc, is mirrored: the
// service exists without a selector, and ep is neither labelled
// skip-mirror nor a leader-election record.
func ShouldMirror(ep *corev1.Endpoints, svc *corev1.Service) bool {
	if ep == nil || svc == nil || len(svc.Spec.Selector) > 0 {
		return false
	}
	_, leader := ep.Annotations[leaderAnnotation]
	return ep.Labels[discoveryv1.LabelSkipMirror] != "true" && !leader
}

// Desired returns the slices that mirror ep, sorted by address type and
// port set, with generateName set and no name. At most max endpoints are
// taken from each subset.
func Desired(ep *corev1.Endpoints, svc *corev1.Service, max int) []*discoveryv1.EndpointSlice {
	byKey := map[string]*discoveryv1.EndpointSlice{}
	for _, ss := range ep.Subsets {
		ports := slicePorts(ss.Ports)
		taken := 0
		add := func(a corev1.EndpointAddress, ready bool) {
			family, ok := addressType(a.IP)
			if !ok || taken >= max {
				return
			}
			key := sliceKey(family, ports)
			s := byKey[key]
			if s == nil {
				s = template(ep, svc, family, ports)
				byKey[key] = s
			}
			if addEndpoint(s, a, ready, max) {
				taken++
			}
		}
		for _, a := range ss.Addresses {
			add(a, true)
		}
		for _, a := range ss.NotReadyAddresses {
			add(a, false)
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*discoveryv1.EndpointSlice, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}

// addEndpoint adds a's endpoint to s unless s has that IP already (a ready
// one then wins) or holds max endpoints; it reports whether s grew.
func addEndpoint(s *discoveryv1.EndpointSlice, a corev1.EndpointAddress, ready bool, max int) bool {
	for i := range s.Endpoints {
		if s.Endpoints[i].Addresses[0] == a.IP {
			if ready {
				s.Endpoints[i] = endpointOf(a, true)
			}
			return false
		}
	}
	if len(s.Endpoints) >= max {
		return false
	}
	s.Endpoints = append(s.Endpoints, endpointOf(a, ready))
	return true
}

func endpointOf(a corev1.EndpointAddress, ready bool) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{a.IP}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}
	if a.TargetRef != nil {
		ref := *a.TargetRef
		e.TargetRef = &ref
	}
	if a.NodeName != nil {
		node := *a.NodeName
		e.NodeName = &node
	}
	if a.Hostname != "" {
		host := a.Hostname
		e.Hostname = &host
	}
	return e
}

func addressType(ip string) (discoveryv1.AddressType, bool) {
	a, err := netip.ParseAddr(ip)
	switch {
	case err != nil || a.Zone() != "":
		return "", false
	case a.Is4() || a.Is4In6():
		return discoveryv1.AddressTypeIPv4, a.Is4()
	}
	return discoveryv1.AddressTypeIPv6, true
}

// slicePorts converts ports as the API server would default them (name
// "" and protocol TCP when unset), so that an unchanged slice compares
// equal to the stored one.
func slicePorts(ports []corev1.EndpointPort) []discoveryv1.EndpointPort {
	out := make([]discoveryv1.EndpointPort, len(ports))
	for i, p := range ports {
		name, port, proto := p.Name, p.Port, p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		out[i] = discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &proto, AppProtocol: p.AppProtocol}
	}
	sort.Slice(out, func(i, j int) bool { return *out[i].Name < *out[j].Name })
	return out
}

// sliceKey identifies a slice by address type and port set.
func sliceKey(family discoveryv1.AddressType, ports []discoveryv1.EndpointPort) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		app := ""
		if p.AppProtocol != nil {
			app = *p.AppProtocol
		}
		name, proto, num := "", corev1.Protocol(""), int32(0)
		if p.Name != nil {
			name = *p.Name
		}
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if p.Port != nil {
			num = *p.Port
		}
		parts[i] = fmt.Sprintf("%s/%s/%d/%s", name, proto, num, app)
	}
	sort.Strings(parts)
	return string(family) + "|" + strings.Join(parts, ",")
}

func template(ep *corev1.Endpoints, svc *corev1.Service, family discoveryv1.AddressType, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{GenerateName: ep.Name + "-", Namespace: ep.Namespace,
			Labels: wantLabels(ep), Annotations: wantAnnotations(ep),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(svc, corev1.SchemeGroupVersion.WithKind("Service"))}},
		AddressType: family, Ports: ports,
	}
}

func wantLabels(ep *corev1.Endpoints) map[string]string {
	l := maps.Clone(ep.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[discoveryv1.LabelServiceName] = ep.Name
	l[discoveryv1.LabelManagedBy] = ManagedBy
	return l
}

func wantAnnotations(ep *corev1.Endpoints) map[string]string {
	a := maps.Clone(ep.Annotations)
	delete(a, corev1.EndpointsLastChangeTriggerTime)
	delete(a, corev1.LastAppliedConfigAnnotation)
	if len(a) == 0 {
		return nil
	}
	return a
}
