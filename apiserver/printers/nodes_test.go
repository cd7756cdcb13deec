package printers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func node(ready corev1.ConditionStatus, labels map[string]string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: objectMeta("node-1")}
	n.Namespace = ""
	n.Labels = labels
	if ready != "" {
		n.Status.Conditions = []corev1.NodeCondition{
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
			{Type: corev1.NodeReady, Status: ready},
		}
	}
	n.Status.NodeInfo.KubeletVersion = "v1.33.1"
	return n
}

func TestNodeStatusAndRoles(t *testing.T) {
	tests := []struct {
		name          string
		node          *corev1.Node
		unschedulable bool
		status, roles string
	}{
		{name: "ready", node: node(corev1.ConditionTrue, nil), status: "Ready", roles: "<none>"},
		{name: "not ready", node: node(corev1.ConditionFalse, nil), status: "NotReady", roles: "<none>"},
		{name: "ready unknown", node: node(corev1.ConditionUnknown, nil), status: "NotReady", roles: "<none>"},
		{name: "no ready condition", node: node("", nil), status: "Unknown", roles: "<none>"},
		{name: "cordoned", node: node(corev1.ConditionTrue, nil), unschedulable: true, status: "Ready,SchedulingDisabled", roles: "<none>"},
		{name: "cordoned, no condition", node: node("", nil), unschedulable: true, status: "Unknown,SchedulingDisabled", roles: "<none>"},
		{name: "roles sorted", node: node(corev1.ConditionTrue, map[string]string{
			"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/": "",
			"kubernetes.io/role": "worker", "kubernetes.io/hostname": "node-1"}),
			status: "Ready", roles: "control-plane,worker"},
		{name: "legacy role label", node: node(corev1.ConditionTrue, map[string]string{"kubernetes.io/role": "master"}),
			status: "Ready", roles: "master"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.node.Spec.Unschedulable = tt.unschedulable
			cells := row(t, "nodes", tt.node)
			if cells[1] != tt.status || cells[2] != tt.roles {
				t.Errorf("STATUS, ROLES = %q, %q, want %q, %q", cells[1], cells[2], tt.status, tt.roles)
			}
		})
	}
}

func TestNodeRow(t *testing.T) {
	n := node(corev1.ConditionTrue, map[string]string{"node-role.kubernetes.io/control-plane": ""})
	checkCells(t, row(t, "nodes", n), []interface{}{"node-1", "Ready", "control-plane", "10m", "v1.33.1",
		"<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"})

	n.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeHostName, Address: "node-1"},
		{Type: corev1.NodeInternalIP, Address: "192.168.1.10"},
		{Type: corev1.NodeInternalIP, Address: "fd00::10"},
		{Type: corev1.NodeExternalIP, Address: "203.0.113.10"},
	}
	n.Status.NodeInfo.OSImage = "Debian GNU/Linux 12 (bookworm)"
	n.Status.NodeInfo.KernelVersion = "6.1.0-18-amd64"
	n.Status.NodeInfo.ContainerRuntimeVersion = "containerd://2.1.0"
	checkCells(t, row(t, "nodes", n), []interface{}{"node-1", "Ready", "control-plane", "10m", "v1.33.1",
		"192.168.1.10", "203.0.113.10", "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "containerd://2.1.0"})
}

func TestNodeColumns(t *testing.T) {
	p, _ := For("nodes")
	if got, want := header(p.Columns(), false), "NAME | STATUS | ROLES | AGE | VERSION"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	want := "NAME | STATUS | ROLES | AGE | VERSION | INTERNAL-IP | EXTERNAL-IP | OS-IMAGE | KERNEL-VERSION | CONTAINER-RUNTIME"
	if got := header(p.Columns(), true); got != want {
		t.Errorf("wide header %q, want %q", got, want)
	}
}
