package endpoints

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// MaxCapacity is kube's cap on the addresses of one Endpoints object.
const MaxCapacity = 1000

// Subsets returns the service's subsets from its pods, sorted (subsets by
// port set, addresses by IP), and whether they were truncated to max
// addresses. pods may include pods the selector does not match; they are
// skipped.
func Subsets(svc *corev1.Service, pods []*corev1.Pod, max int) ([]corev1.EndpointSubset, bool) {
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	bySig := map[string]*corev1.EndpointSubset{}
	for _, pod := range pods {
		if pod.Namespace != svc.Namespace || !sel.Matches(labels.Set(pod.Labels)) || !included(pod, svc.Spec.PublishNotReadyAddresses) {
			continue
		}
		ports, ok := podPorts(svc, pod)
		if !ok {
			continue
		}
		sig := portSignature(ports)
		ss := bySig[sig]
		if ss == nil {
			ss = &corev1.EndpointSubset{Ports: ports}
			bySig[sig] = ss
		}
		addr := address(svc, pod)
		if svc.Spec.PublishNotReadyAddresses || podReady(pod) {
			ss.Addresses = append(ss.Addresses, addr)
		} else {
			ss.NotReadyAddresses = append(ss.NotReadyAddresses, addr)
		}
	}
	return truncate(sortedSubsets(bySig), max)
}

// included: kube's ShouldPodBeInEndpoints for IPv4: an IPv4 pod IP, not
// finished, not terminating unless not-ready addresses are published.
func included(pod *corev1.Pod, publishNotReady bool) bool {
	switch {
	case podIPv4(pod) == "":
		return false
	case pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed:
		return false
	case pod.DeletionTimestamp != nil && !publishNotReady:
		return false
	}
	return true
}

// podPorts resolves the service's ports on the pod, sorted by name. A
// headless service without ports has none (ok); any other service's pod
// that resolves no port is left out (not ok).
func podPorts(svc *corev1.Service, pod *corev1.Pod) ([]corev1.EndpointPort, bool) {
	if len(svc.Spec.Ports) == 0 {
		return nil, svc.Spec.ClusterIP == corev1.ClusterIPNone
	}
	var out []corev1.EndpointPort
	for _, sp := range svc.Spec.Ports {
		num, ok := targetPort(sp, pod)
		if !ok {
			continue
		}
		out = append(out, corev1.EndpointPort{Name: sp.Name, Port: num, Protocol: protocol(sp.Protocol), AppProtocol: sp.AppProtocol})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, len(out) > 0
}

func protocol(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// targetPort is the pod's number for a service port: a numeric targetPort
// (or the port itself when none is set), or the container port of the
// named one with the same protocol.
func targetPort(sp corev1.ServicePort, pod *corev1.Pod) (int32, bool) {
	tp := sp.TargetPort
	switch {
	case tp.StrVal == "" && tp.IntVal == 0:
		return sp.Port, true
	case tp.StrVal == "":
		return tp.IntVal, true
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == tp.StrVal && protocol(p.Protocol) == protocol(sp.Protocol) {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

func address(svc *corev1.Service, pod *corev1.Pod) corev1.EndpointAddress {
	a := corev1.EndpointAddress{IP: podIPv4(pod),
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}}
	if pod.Spec.NodeName != "" {
		node := pod.Spec.NodeName
		a.NodeName = &node
	}
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name {
		a.Hostname = pod.Spec.Hostname
	}
	return a
}

func podIPv4(pod *corev1.Pod) string {
	ips := []string{pod.Status.PodIP}
	for _, ip := range pod.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip); err == nil && a.Is4() {
			return ip
		}
	}
	return ""
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func portSignature(ports []corev1.EndpointPort) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		app := ""
		if p.AppProtocol != nil {
			app = *p.AppProtocol
		}
		parts[i] = fmt.Sprintf("%s/%s/%d/%s", p.Name, p.Protocol, p.Port, app)
	}
	return strings.Join(parts, ",")
}

func sortedSubsets(bySig map[string]*corev1.EndpointSubset) []corev1.EndpointSubset {
	sigs := make([]string, 0, len(bySig))
	for sig := range bySig {
		sigs = append(sigs, sig)
	}
	sort.Strings(sigs)
	out := make([]corev1.EndpointSubset, len(sigs))
	for i, sig := range sigs {
		ss := *bySig[sig]
		sortAddresses(ss.Addresses)
		sortAddresses(ss.NotReadyAddresses)
		out[i] = ss
	}
	return out
}

func sortAddresses(as []corev1.EndpointAddress) {
	sort.Slice(as, func(i, j int) bool {
		if as[i].IP != as[j].IP {
			return as[i].IP < as[j].IP
		}
		return as[i].TargetRef.UID < as[j].TargetRef.UID
	})
}
