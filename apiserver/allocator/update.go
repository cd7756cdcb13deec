package allocator

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// PrepareUpdate is what kube's service strategy does to an update before
// defaulting and validation: keep the allocated values a client left out
// (a PUT of a manifest without clusterIP or nodePort means "keep them"),
// then drop the ones the new type no longer has (NodePort to ClusterIP
// releases the node ports, to ExternalName the cluster IPs) when the
// client left them as they were.
func PrepareUpdate(svc, old *corev1.Service) {
	patchAllocated(svc, old)
	dropTypeDependent(svc, old)
}

func patchAllocated(svc, old *corev1.Service) {
	spec, was := &svc.Spec, &old.Spec
	if needsClusterIP(old) && needsClusterIP(svc) {
		if spec.ClusterIP == "" {
			spec.ClusterIP = was.ClusterIP
		}
		if len(spec.ClusterIPs) == 0 && len(was.ClusterIPs) > 0 {
			spec.ClusterIPs = slices.Clone(was.ClusterIPs)
		}
	}
	if needsNodePorts(old) && needsNodePorts(svc) {
		keepNodePorts(spec.Ports, was.Ports)
	}
	if needsHealthCheckNodePort(old) && needsHealthCheckNodePort(svc) && spec.HealthCheckNodePort == 0 {
		spec.HealthCheckNodePort = was.HealthCheckNodePort
	}
}

// keepNodePorts gives a port without a node port the one the stored port of
// the same name had, unless another port now uses it.
func keepNodePorts(ports, old []corev1.ServicePort) {
	used := map[int32]bool{}
	for _, p := range ports {
		used[p.NodePort] = true
	}
	byName := map[string]int32{}
	for _, p := range old {
		byName[p.Name] = p.NodePort
	}
	for i := range ports {
		if np := byName[ports[i].Name]; ports[i].NodePort == 0 && np != 0 && !used[np] {
			ports[i].NodePort, used[np] = np, true
		}
	}
}

func dropTypeDependent(svc, old *corev1.Service) {
	spec, was := &svc.Spec, &old.Spec
	if needsClusterIP(old) && !needsClusterIP(svc) {
		if spec.ClusterIP == was.ClusterIP && slices.Equal(spec.ClusterIPs, was.ClusterIPs) {
			spec.ClusterIP, spec.ClusterIPs = "", nil
		}
		if slices.Equal(spec.IPFamilies, was.IPFamilies) {
			spec.IPFamilies = nil
		}
		if ptrEqual(spec.IPFamilyPolicy, was.IPFamilyPolicy) {
			spec.IPFamilyPolicy = nil
		}
	}
	if needsNodePorts(old) && !needsNodePorts(svc) && sameNodePorts(spec.Ports, was.Ports) {
		for i := range spec.Ports {
			spec.Ports[i].NodePort = 0
		}
	}
	if needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(svc) && spec.HealthCheckNodePort == was.HealthCheckNodePort {
		spec.HealthCheckNodePort = 0
	}
	if spec.Type != corev1.ServiceTypeLoadBalancer && ptrEqual(spec.AllocateLoadBalancerNodePorts, was.AllocateLoadBalancerNodePorts) {
		spec.AllocateLoadBalancerNodePorts = nil
	}
	if !externallyAccessible(svc) && externallyAccessible(old) && spec.ExternalTrafficPolicy == was.ExternalTrafficPolicy {
		spec.ExternalTrafficPolicy = ""
	}
}

// sameNodePorts: every port's node port is what the stored port at the same
// index had.
func sameNodePorts(ports, old []corev1.ServicePort) bool {
	for i := range ports {
		if ports[i].NodePort == 0 {
			continue
		}
		if i >= len(old) || old[i].NodePort != ports[i].NodePort {
			return false
		}
	}
	return true
}

func externallyAccessible(s *corev1.Service) bool {
	switch s.Spec.Type {
	case corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
		return true
	case corev1.ServiceTypeClusterIP:
		return len(s.Spec.ExternalIPs) > 0
	}
	return false
}

func ptrEqual[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
