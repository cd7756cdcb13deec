package allocator

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// A Key names one allocated item: "ip/10.96.0.10" or "port/30080". The
// etcd key of an item is the allocation prefix followed by its Key.
type Key string

// IPKey and PortKey name an allocated cluster IP and node port.
func IPKey(ip string) Key              { return Key("ip/" + ip) }
func PortKey(port int32) Key           { return Key("port/" + strconv.Itoa(int(port))) }
func ownerOf(s *corev1.Service) string { return s.Namespace + "/" + s.Name }

// Held lists what a stored service holds: its cluster IPs (not "None"),
// its node ports and its health check node port, each once, in order.
func Held(s *corev1.Service) []Key {
	if s == nil {
		return nil
	}
	var out []Key
	seen := map[Key]bool{}
	add := func(k Key) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, ip := range s.Spec.ClusterIPs {
		if ip != "" && ip != corev1.ClusterIPNone {
			add(IPKey(ip))
		}
	}
	for _, p := range s.Spec.Ports {
		if p.NodePort != 0 {
			add(PortKey(p.NodePort))
		}
	}
	if s.Spec.HealthCheckNodePort != 0 {
		add(PortKey(s.Spec.HealthCheckNodePort))
	}
	return out
}

// needsClusterIP: every type but ExternalName has cluster IPs (or None).
func needsClusterIP(s *corev1.Service) bool {
	return s.Spec.Type != corev1.ServiceTypeExternalName
}

// needsNodePorts: NodePort services, and LoadBalancers unless
// allocateLoadBalancerNodePorts is false.
func needsNodePorts(s *corev1.Service) bool {
	switch s.Spec.Type {
	case corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeLoadBalancer:
		a := s.Spec.AllocateLoadBalancerNodePorts
		return a == nil || *a
	}
	return false
}

// needsHealthCheckNodePort: LoadBalancers with externalTrafficPolicy Local.
func needsHealthCheckNodePort(s *corev1.Service) bool {
	return s.Spec.Type == corev1.ServiceTypeLoadBalancer &&
		s.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}
