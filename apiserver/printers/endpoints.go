package printers

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func endpointsPrinter() Printer {
	return typed[*corev1.Endpoints]{
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Endpoints", corev1.Endpoints{}.SwaggerDoc()["subsets"]),
			ageColumn(),
		},
		cells: func(ep *corev1.Endpoints, now time.Time) []interface{} {
			return []interface{}{ep.Name, endpointsCell(ep.Subsets), age(ep.CreationTimestamp, now)}
		},
	}
}

// endpointsCell is kube's ENDPOINTS cell: the ready addresses as ip:port
// for every port of their subset (the bare ip when the subset has no
// ports), the first three joined by ",", then " + N more..."; "<none>"
// when there are none. Not-ready addresses are not shown.
func endpointsCell(subsets []corev1.EndpointSubset) string {
	var list []string
	count := 0
	for _, ss := range subsets {
		if len(ss.Ports) == 0 {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				list = append(list, a.IP)
			}
			continue
		}
		for _, p := range ss.Ports {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				list = append(list, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	switch {
	case count == 0:
		return none
	case count > maxListed:
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:maxListed], ","), count-maxListed)
	}
	return strings.Join(list, ",")
}
