package defaults

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Service applies kube-apiserver's defaults to s. It also keeps clusterIP and
// clusterIPs in step and picks the IP families the way the service registry
// does on a single-stack IPv4 cluster; it never allocates an IP or a port.
func Service(s *corev1.Service) {
	spec := &s.Spec
	if spec.Type == "" {
		spec.Type = corev1.ServiceTypeClusterIP
	}
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	if spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		sessionAffinityConfig(spec)
	}
	for i := range spec.Ports {
		servicePort(&spec.Ports[i])
	}
	trafficPolicies(spec)
	if spec.Type == corev1.ServiceTypeLoadBalancer && spec.AllocateLoadBalancerNodePorts == nil {
		spec.AllocateLoadBalancerNodePorts = ptrTo(true)
	}
	syncClusterIPs(spec)
	if spec.Type != corev1.ServiceTypeExternalName {
		ipFamilies(spec)
	}
}

func sessionAffinityConfig(spec *corev1.ServiceSpec) {
	c := spec.SessionAffinityConfig
	if c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		return
	}
	spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{
		ClientIP: &corev1.ClientIPConfig{
			TimeoutSeconds: ptrTo(corev1.DefaultClientIPServiceAffinitySeconds),
		},
	}
}

// servicePort defaults protocol to TCP and an unset targetPort to the port.
func servicePort(p *corev1.ServicePort) {
	if p.Protocol == "" {
		p.Protocol = corev1.ProtocolTCP
	}
	if p.TargetPort == (intstr.IntOrString{}) {
		p.TargetPort = intstr.FromInt32(p.Port)
	}
}

func trafficPolicies(spec *corev1.ServiceSpec) {
	if externallyAccessible(spec) && spec.ExternalTrafficPolicy == "" {
		spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if spec.Type != corev1.ServiceTypeExternalName && spec.InternalTrafficPolicy == nil {
		spec.InternalTrafficPolicy = ptrTo(corev1.ServiceInternalTrafficPolicyCluster)
	}
}

// externallyAccessible reports whether traffic can reach the service from
// outside the cluster: NodePort, LoadBalancer, or a ClusterIP service with
// external IPs.
func externallyAccessible(spec *corev1.ServiceSpec) bool {
	switch spec.Type {
	case corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
		return true
	case corev1.ServiceTypeClusterIP:
		return len(spec.ExternalIPs) > 0
	}
	return false
}

// syncClusterIPs makes clusterIPs[0] and clusterIP agree when only one of
// them is set.
func syncClusterIPs(spec *corev1.ServiceSpec) {
	switch {
	case spec.ClusterIP != "" && len(spec.ClusterIPs) == 0:
		spec.ClusterIPs = []string{spec.ClusterIP}
	case spec.ClusterIP == "" && len(spec.ClusterIPs) > 0:
		spec.ClusterIP = spec.ClusterIPs[0]
	}
}

// ipFamilies sets ipFamilyPolicy and ipFamilies when unset. A headless
// service without a selector gets RequireDualStack, as kube does; everything
// else is SingleStack. The families follow any clusterIPs given, IPv4 if none.
func ipFamilies(spec *corev1.ServiceSpec) {
	headless := spec.ClusterIP == corev1.ClusterIPNone
	if spec.IPFamilyPolicy == nil {
		policy := corev1.IPFamilyPolicySingleStack
		if headless && len(spec.Selector) == 0 {
			policy = corev1.IPFamilyPolicyRequireDualStack
		}
		spec.IPFamilyPolicy = &policy
	}
	if len(spec.IPFamilies) > 0 {
		return
	}
	for _, ip := range spec.ClusterIPs {
		if f, ok := ipFamily(ip); ok {
			spec.IPFamilies = append(spec.IPFamilies, f)
		}
	}
	if len(spec.IPFamilies) == 0 {
		spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	}
}

func ipFamily(ip string) (corev1.IPFamily, bool) {
	addr, err := netip.ParseAddr(ip)
	switch {
	case err != nil:
		return "", false
	case addr.Is4():
		return corev1.IPv4Protocol, true
	default:
		return corev1.IPv6Protocol, true
	}
}
