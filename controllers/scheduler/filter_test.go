package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestFilter(t *testing.T) {
	notReady := func(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionUnknown }
	cordoned := func(n *corev1.Node) { n.Spec.Unschedulable = true }
	noSchedule := corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}
	unreachable := corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	diskPressure := corev1.Taint{Key: corev1.TaintNodeDiskPressure, Effect: corev1.TaintEffectNoSchedule}
	memoryPressure := corev1.Taint{Key: corev1.TaintNodeMemoryPressure, Effect: corev1.TaintEffectNoSchedule}
	terminated := func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }
	tests := []struct {
		name   string
		pod    *corev1.Pod
		node   *corev1.Node
		others []*corev1.Pod
		reason string // "" means the node fits
	}{
		{"fits", pod("p", "1", "1Gi"), node("n"), nil, ""},
		{"no conditions is not ready", pod("p", "", ""), node("n", func(n *corev1.Node) { n.Status.Conditions = nil }), nil, reasonNotReady},
		{"ready unknown", pod("p", "", ""), node("n", notReady), nil, reasonNotReady},
		{"cordoned", pod("p", "", ""), node("n", cordoned), nil, reasonUnschedulable},
		{"cordoned but tolerated", pod("p", "", "", tolerating(corev1.Toleration{Key: corev1.TaintNodeUnschedulable,
			Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})), node("n", cordoned), nil, ""},
		{"untolerated NoSchedule", pod("p", "", ""), node("n", tainted(noSchedule)), nil, "node(s) had untolerated taint {dedicated: gpu}"},
		{"untolerated NoExecute", pod("p", "", ""), node("n", tainted(unreachable)), nil, "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"},
		// kube 1.3x has no CheckNodeMemoryPressure: the node lifecycle
		// controller's pressure taints keep every pod (BestEffort or not)
		// off a node under pressure, unless it tolerates the taint.
		{"disk pressure", pod("p", "", ""), node("n", tainted(diskPressure)), nil, "node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }"},
		{"memory pressure, guaranteed pod", pod("p", "1", "1Gi"), node("n", tainted(memoryPressure)), nil,
			"node(s) had untolerated taint {node.kubernetes.io/memory-pressure: }"},
		{"memory pressure tolerated", pod("p", "", "", tolerating(corev1.Toleration{Key: corev1.TaintNodeMemoryPressure,
			Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})), node("n", tainted(memoryPressure)), nil, ""},
		{"PreferNoSchedule ignored", pod("p", "", ""), node("n", tainted(corev1.Taint{Key: "k", Effect: corev1.TaintEffectPreferNoSchedule})), nil, ""},
		{"tolerated by Equal", pod("p", "", "", tolerating(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual,
			Value: "gpu", Effect: corev1.TaintEffectNoSchedule})), node("n", tainted(noSchedule)), nil, ""},
		{"Equal with other value", pod("p", "", "", tolerating(corev1.Toleration{Key: "dedicated", Value: "cpu"})),
			node("n", tainted(noSchedule)), nil, "node(s) had untolerated taint {dedicated: gpu}"},
		{"tolerate everything", pod("p", "", "", tolerating(corev1.Toleration{Operator: corev1.TolerationOpExists})),
			node("n", tainted(noSchedule, unreachable), cordoned), nil, ""},
		{"nodeSelector matches", pod("p", "", "", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} }),
			node("n", labeled("disk", "ssd")), nil, ""},
		{"nodeSelector mismatch", pod("p", "", "", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} }),
			node("n", labeled("disk", "hdd")), nil, reasonAffinity},
		{"affinity mismatch", pod("p", "", "", requiring(expr("zone", corev1.NodeSelectorOpIn, "a"))),
			node("n", labeled("zone", "b")), nil, reasonAffinity},
		{"host port free", pod("p", "", "", withHostPort(8080, "", "")), node("n"),
			[]*corev1.Pod{pod("q", "", "", onNode("n"), withHostPort(8080, "", corev1.ProtocolUDP))}, ""},
		{"host port taken", pod("p", "", "", withHostPort(8080, "", "")), node("n"),
			[]*corev1.Pod{pod("q", "", "", onNode("n"), withHostPort(8080, "127.0.0.1", corev1.ProtocolTCP))}, reasonPorts},
		{"host port on other address", pod("p", "", "", withHostPort(8080, "10.0.0.1", "")), node("n"),
			[]*corev1.Pod{pod("q", "", "", onNode("n"), withHostPort(8080, "10.0.0.2", ""))}, ""},
		{"host port of finished pod", pod("p", "", "", withHostPort(8080, "", "")), node("n"),
			[]*corev1.Pod{pod("q", "", "", onNode("n"), withHostPort(8080, "", ""), terminated)}, ""},
		{"insufficient cpu", pod("p", "3", ""), node("n"), []*corev1.Pod{pod("q", "1500m", "", onNode("n"))}, "Insufficient cpu"},
		{"finished pods hold nothing", pod("p", "3", ""), node("n"), []*corev1.Pod{pod("q", "1500m", "", onNode("n"), terminated)}, ""},
		{"insufficient cpu and memory", pod("p", "5", "9Gi"), node("n"), nil, "Insufficient cpu, Insufficient memory"},
		{"exactly full fits", pod("p", "2", "4Gi"), node("n"), []*corev1.Pod{pod("q", "2", "4Gi", onNode("n"))}, ""},
		{"ephemeral storage", pod("p", "", "", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = resources("", "", "30Gi", "")
		}), node("n"), nil, "Insufficient ephemeral-storage"},
		{"extended resource", pod("p", "", "", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{"example.com/gpu": resources("1", "", "", "")[corev1.ResourceCPU]}
		}), node("n"), nil, "Insufficient example.com/gpu"},
		{"too many pods", pod("p", "", ""), node("n", func(n *corev1.Node) { n.Status.Allocatable = resources("4", "8Gi", "", "1") }),
			[]*corev1.Pod{pod("q", "", "", onNode("n"))}, reasonTooManyPods},
		{"no allocatable pods", pod("p", "", ""), node("n", func(n *corev1.Node) { n.Status.Allocatable = nil }), nil, reasonTooManyPods},
		{"not ready wins over resources", pod("p", "9", ""), node("n", notReady), nil, reasonNotReady},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, reason := Filter(tt.pod, tt.node, tt.others)
			if ok != (tt.reason == "") || reason != tt.reason {
				t.Errorf("Filter = %v, %q; want reason %q", ok, reason, tt.reason)
			}
		})
	}
}

func TestTolerates(t *testing.T) {
	taint := corev1.Taint{Key: "k", Value: "v", Effect: corev1.TaintEffectNoExecute}
	tests := []struct {
		name string
		tol  corev1.Toleration
		want bool
	}{
		{"equal key value effect", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpEqual, Value: "v", Effect: corev1.TaintEffectNoExecute}, true},
		{"empty operator is Equal", corev1.Toleration{Key: "k", Value: "v"}, true},
		{"empty effect matches all", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists}, true},
		{"other effect", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}, false},
		{"other value", corev1.Toleration{Key: "k", Value: "w"}, false},
		{"other key", corev1.Toleration{Key: "j", Operator: corev1.TolerationOpExists}, false},
		{"empty key with Exists matches all", corev1.Toleration{Operator: corev1.TolerationOpExists}, true},
		// The API rejects an empty key without Exists; matching, as kube's, ignores that.
		{"empty key with Equal", corev1.Toleration{Value: "v"}, true},
		{"Gt is off", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpGt, Value: "1"}, false},
	}
	for _, tt := range tests {
		if got := tolerates(tt.tol, taint); got != tt.want {
			t.Errorf("%s: tolerates = %v, want %v", tt.name, got, tt.want)
		}
	}
}
