package endpointslice

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Group is the endpoints that share one resolved port set: one or more
// slices of the service.
type Group struct {
	Ports     []discoveryv1.EndpointPort
	Endpoints []discoveryv1.Endpoint
}

// Desired returns the endpoint groups the service's slices should hold,
// sorted by port signature, each group's endpoints by pod name. pods may
// include pods the selector does not match; they are skipped.
func Desired(svc *corev1.Service, pods []*corev1.Pod) []Group {
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	groups := map[string]*Group{}
	for _, pod := range sortedPods(pods) {
		if pod.Namespace != svc.Namespace || !sel.Matches(labels.Set(pod.Labels)) || !eligible(pod) {
			continue
		}
		ports := resolvePorts(svc, pod)
		sig := portSignature(ports)
		g := groups[sig]
		if g == nil {
			g = &Group{Ports: ports}
			groups[sig] = g
		}
		g.Endpoints = append(g.Endpoints, endpointFor(svc, pod))
	}
	sigs := make([]string, 0, len(groups))
	for sig := range groups {
		sigs = append(sigs, sig)
	}
	sort.Strings(sigs)
	out := make([]Group, len(sigs))
	for i, sig := range sigs {
		out[i] = *groups[sig]
	}
	return out
}

func sortedPods(pods []*corev1.Pod) []*corev1.Pod {
	out := append([]*corev1.Pod(nil), pods...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// eligible: not finished, and has an IPv4 pod IP.
func eligible(pod *corev1.Pod) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	return podIPv4(pod) != ""
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

// endpointFor: ready is Ready and not terminating (or the service publishes
// not-ready addresses); serving is Ready, also while terminating.
func endpointFor(svc *corev1.Service, pod *corev1.Pod) discoveryv1.Endpoint {
	serving := podReady(pod)
	terminating := pod.DeletionTimestamp != nil
	ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
	ep := discoveryv1.Endpoint{
		Addresses:  []string{podIPv4(pod)},
		Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if pod.Spec.NodeName != "" {
		node := pod.Spec.NodeName
		ep.NodeName = &node
	}
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name {
		host := pod.Spec.Hostname
		ep.Hostname = &host
	}
	return ep
}

// resolvePorts gives each service port its number on this pod: a numeric
// targetPort as is, a named one from the pod's containers' ports (same
// name and protocol). A port the pod does not have is left out for this
// pod only; the pod keeps the ports it does resolve. As kube's controller
// does, a pod that resolves none of them still gets an endpoint, in a
// slice with no ports (no traffic reaches it, but it stays visible, e.g.
// to DNS of headless services).
func resolvePorts(svc *corev1.Service, pod *corev1.Pod) []discoveryv1.EndpointPort {
	out := make([]discoveryv1.EndpointPort, 0, len(svc.Spec.Ports))
	for _, sp := range svc.Spec.Ports {
		num, ok := targetPort(sp, pod)
		if !ok {
			continue
		}
		name, proto := sp.Name, sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		out = append(out, discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &num, AppProtocol: sp.AppProtocol})
	}
	return out
}

func targetPort(sp corev1.ServicePort, pod *corev1.Pod) (int32, bool) {
	tp := sp.TargetPort
	switch {
	case tp.StrVal == "" && tp.IntVal == 0:
		return sp.Port, true
	case tp.StrVal == "":
		return tp.IntVal, true
	}
	proto := sp.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			pp := p.Protocol
			if pp == "" {
				pp = corev1.ProtocolTCP
			}
			if p.Name == tp.StrVal && pp == proto {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

// portSignature identifies a resolved port set.
func portSignature(ports []discoveryv1.EndpointPort) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		app := ""
		if p.AppProtocol != nil {
			app = *p.AppProtocol
		}
		parts[i] = fmt.Sprintf("%s/%s/%d/%s", deref(p.Name), deref(p.Protocol), deref(p.Port), app)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
