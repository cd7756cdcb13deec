package printers

import (
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Node role labels: node-role.kubernetes.io/<role>="" and the older
// kubernetes.io/role=<role>.
const (
	nodeRolePrefix = "node-role.kubernetes.io/"
	nodeRoleLabel  = "kubernetes.io/role"
)

func nodePrinter() Printer {
	info := corev1.NodeSystemInfo{}.SwaggerDoc()
	addresses := corev1.NodeStatus{}.SwaggerDoc()["addresses"]
	return typed[*corev1.Node]{
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Status", "The status of the node"),
			column("Roles", "The roles of the node"),
			ageColumn(),
			column("Version", info["kubeletVersion"]),
			wide(column("Internal-IP", addresses)),
			wide(column("External-IP", addresses)),
			wide(column("OS-Image", info["osImage"])),
			wide(column("Kernel-Version", info["kernelVersion"])),
			wide(column("Container-Runtime", info["containerRuntimeVersion"])),
		},
		cells: nodeCells,
	}
}

func nodeCells(n *corev1.Node, now time.Time) []interface{} {
	info := n.Status.NodeInfo
	return []interface{}{
		n.Name,
		nodeStatus(n),
		orNone(strings.Join(nodeRoles(n), ",")),
		age(n.CreationTimestamp, now),
		info.KubeletVersion,
		nodeAddress(n, corev1.NodeInternalIP),
		nodeAddress(n, corev1.NodeExternalIP),
		orDefault(info.OSImage, unknown),
		orDefault(info.KernelVersion, unknown),
		orDefault(info.ContainerRuntimeVersion, unknown),
	}
}

// nodeStatus is "Ready" or "NotReady" by the Ready condition (the last one
// listed wins), "Unknown" without one, then ",SchedulingDisabled" for a
// cordoned node.
func nodeStatus(n *corev1.Node) string {
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		status = "NotReady"
		if c.Status == corev1.ConditionTrue {
			status = "Ready"
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

// nodeRoles are the node's roles from its labels, sorted, without
// duplicates.
func nodeRoles(n *corev1.Node) []string {
	var roles []string
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, nodeRolePrefix) && len(k) > len(nodeRolePrefix):
			roles = append(roles, strings.TrimPrefix(k, nodeRolePrefix))
		case k == nodeRoleLabel && v != "":
			roles = append(roles, v)
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

// nodeAddress is the node's first address of type t, or "<none>".
func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return none
}
