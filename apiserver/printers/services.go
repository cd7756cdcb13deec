package printers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func servicePrinter() Printer {
	doc := corev1.ServiceSpec{}.SwaggerDoc()
	return typed[*corev1.Service]{
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Type", doc["type"]),
			column("Cluster-IP", doc["clusterIP"]),
			column("External-IP", doc["externalIPs"]),
			column("Port(s)", doc["ports"]),
			ageColumn(),
			wide(column("Selector", doc["selector"])),
		},
		cells: serviceCells,
	}
}

func serviceCells(s *corev1.Service, now time.Time) []interface{} {
	return []interface{}{
		s.Name,
		string(s.Spec.Type),
		orNone(clusterIP(s)),
		externalIP(s),
		orNone(servicePorts(s.Spec.Ports)),
		age(s.CreationTimestamp, now),
		labels.FormatLabels(s.Spec.Selector),
	}
}

// clusterIP is the service's primary cluster IP ("None" when headless).
// kube-apiserver prints the first of clusterIPs, which its defaulting keeps
// equal to clusterIP.
func clusterIP(s *corev1.Service) string {
	if len(s.Spec.ClusterIPs) > 0 {
		return s.Spec.ClusterIPs[0]
	}
	return s.Spec.ClusterIP
}

// externalIP is the EXTERNAL-IP cell: the externalIPs, for a load balancer
// preceded by its ingress addresses (or "<pending>" while it has none),
// the external name of an ExternalName service.
func externalIP(s *corev1.Service) string {
	switch s.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		return orNone(strings.Join(s.Spec.ExternalIPs, ","))
	case corev1.ServiceTypeLoadBalancer:
		ips := append(loadBalancerAddresses(s.Status.LoadBalancer), s.Spec.ExternalIPs...)
		return orDefault(strings.Join(ips, ","), "<pending>")
	case corev1.ServiceTypeExternalName:
		return s.Spec.ExternalName
	}
	return unknown
}

// loadBalancerAddresses are the ingress IPs (or hostnames), sorted and
// without duplicates.
func loadBalancerAddresses(st corev1.LoadBalancerStatus) []string {
	var out []string
	for _, in := range st.Ingress {
		if a := orDefault(in.IP, in.Hostname); a != "" {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// servicePorts is the PORT(S) cell: "80/TCP", "80:30080/TCP", joined by ",".
func servicePorts(ports []corev1.ServicePort) string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		if p.NodePort > 0 {
			out[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		}
	}
	return strings.Join(out, ",")
}

func endpointSlicePrinter() Printer {
	doc := discoveryv1.EndpointSlice{}.SwaggerDoc()
	return typed[*discoveryv1.EndpointSlice]{
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("AddressType", doc["addressType"]),
			column("Ports", doc["ports"]),
			column("Endpoints", doc["endpoints"]),
			ageColumn(),
		},
		cells: endpointSliceCells,
	}
}

func endpointSliceCells(s *discoveryv1.EndpointSlice, now time.Time) []interface{} {
	return []interface{}{
		s.Name,
		string(s.AddressType),
		listWithMore(slicePorts(s.Ports)),
		listWithMore(sliceAddresses(s.Endpoints)),
		age(s.CreationTimestamp, now),
	}
}

// slicePorts are the port numbers, or names when a port has no number
// ("*" when it has neither).
func slicePorts(ports []discoveryv1.EndpointPort) []string {
	out := make([]string, 0, len(ports))
	for _, p := range ports {
		switch {
		case p.Port != nil:
			out = append(out, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			out = append(out, *p.Name)
		default:
			out = append(out, "*")
		}
	}
	return out
}

// sliceAddresses are the addresses of all endpoints, in order.
func sliceAddresses(eps []discoveryv1.Endpoint) []string {
	var out []string
	for _, ep := range eps {
		out = append(out, ep.Addresses...)
	}
	return out
}
