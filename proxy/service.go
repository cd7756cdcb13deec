package proxy

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// servicePorts turns a Service into the ports a backend programs: none for
// headless and ExternalName Services, or without an IPv4 cluster IP.
func servicePorts(svc *corev1.Service) []*ServicePort {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
	if err != nil || !ip.Is4() {
		return nil
	}
	var out []*ServicePort
	for i := range svc.Spec.Ports {
		out = append(out, servicePort(svc, &svc.Spec.Ports[i], ip))
	}
	return out
}

func servicePort(svc *corev1.Service, p *corev1.ServicePort, ip netip.Addr) *ServicePort {
	proto := p.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	sp := &ServicePort{
		Name:            ServicePortName{NamespacedName: namespacedName(svc), Port: p.Name, Protocol: proto},
		ClusterIP:       ip,
		Port:            p.Port,
		Protocol:        proto,
		ExternalIPs:     ipv4s(svc.Spec.ExternalIPs),
		LoadBalancerIPs: loadBalancerIPs(svc),
		AffinityTimeout: affinityTimeout(svc),
		InternalLocal:   svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal,
	}
	if svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		sp.NodePort = p.NodePort
	}
	sp.ExternalLocal = sp.HasExternal() && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	if sp.ExternalLocal && svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		sp.HealthCheckNodePort = svc.Spec.HealthCheckNodePort
	}
	return sp
}

func affinityTimeout(svc *corev1.Service) int32 {
	if svc.Spec.SessionAffinity != corev1.ServiceAffinityClientIP {
		return 0
	}
	c := svc.Spec.SessionAffinityConfig
	if c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil && *c.ClientIP.TimeoutSeconds > 0 {
		return *c.ClientIP.TimeoutSeconds
	}
	return defaultAffinityTimeout
}

func loadBalancerIPs(svc *corev1.Service) []netip.Addr {
	var ips []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		ips = append(ips, in.IP)
	}
	return ipv4s(ips)
}

func ipv4s(in []string) []netip.Addr {
	var out []netip.Addr
	for _, s := range in {
		if ip, err := netip.ParseAddr(s); err == nil && ip.Is4() {
			out = append(out, ip)
		}
	}
	return out
}

func namespacedName(svc *corev1.Service) types.NamespacedName {
	return types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
}
