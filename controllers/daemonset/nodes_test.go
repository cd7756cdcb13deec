package daemonset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestNodePlacement(t *testing.T) {
	hostNet := func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.HostNetwork = true }
	selector := func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "edge"} }
	affinity := func(op corev1.NodeSelectorOperator, values ...string) func(*appsv1.DaemonSet) {
		return func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
					{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: op, Values: values}}}}}}}
		}
	}
	tolerateAll := func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	}
	cases := []struct {
		name string
		node *corev1.Node
		ds   *appsv1.DaemonSet
		want placement
	}{
		{"plain node", testNode("n"), testDS(), placement{true, true}},
		{"selector matches", testNode("n", label("role", "edge")), testDS(selector), placement{true, true}},
		{"selector does not match", testNode("n"), testDS(selector), placement{}},
		{"affinity In matches", testNode("n", label("zone", "a")), testDS(affinity(corev1.NodeSelectorOpIn, "a")), placement{true, true}},
		{"affinity In does not match", testNode("n", label("zone", "b")), testDS(affinity(corev1.NodeSelectorOpIn, "a")), placement{}},
		{"affinity NotIn", testNode("n", label("zone", "a")), testDS(affinity(corev1.NodeSelectorOpNotIn, "a")), placement{}},
		{"NoSchedule taint keeps running pods", testNode("n", taint("dedicated", corev1.TaintEffectNoSchedule)), testDS(), placement{false, true}},
		{"NoExecute taint evicts", testNode("n", taint("dedicated", corev1.TaintEffectNoExecute)), testDS(), placement{}},
		{"PreferNoSchedule is ignored", testNode("n", taint("dedicated", corev1.TaintEffectPreferNoSchedule)), testDS(), placement{true, true}},
		{"tolerated taint", testNode("n", taint("dedicated", corev1.TaintEffectNoExecute)), testDS(tolerateAll), placement{true, true}},
		{"not-ready is tolerated", testNode("n", taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)), testDS(), placement{true, true}},
		{"unreachable is tolerated", testNode("n", taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)), testDS(), placement{true, true}},
		{"cordoned is tolerated", testNode("n", taint(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)), testDS(), placement{true, true}},
		{"disk pressure is tolerated", testNode("n", taint(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule)), testDS(), placement{true, true}},
		{"memory pressure is tolerated", testNode("n", taint(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule)), testDS(), placement{true, true}},
		{"pid pressure is tolerated", testNode("n", taint(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule)), testDS(), placement{true, true}},
		{"network unavailable stops pod-network pods", testNode("n", taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), testDS(), placement{false, true}},
		{"network unavailable is tolerated with hostNetwork", testNode("n", taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), testDS(hostNet), placement{true, true}},
	}
	for _, c := range cases {
		if got := nodePlacement(c.node, c.ds); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestNewPod(t *testing.T) {
	ds := testDS(func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(30))}}
		ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
				{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpExists}}}}}}}
	})
	pod := newPod(ds, "n1", "abc")
	if pod.GenerateName != "agent-" || pod.Namespace != "default" || pod.Labels["app"] != "agent" ||
		pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != "abc" || pod.Labels[templateGenerationLabel] != "1" {
		t.Errorf("meta: %+v", pod.ObjectMeta)
	}
	if ref := pod.OwnerReferences; len(ref) != 1 || ref[0].Kind != "DaemonSet" || ref[0].UID != "ds-uid" || !*ref[0].Controller || !*ref[0].BlockOwnerDeletion {
		t.Errorf("owner: %+v", ref)
	}
	terms := pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 0 || len(terms[0].MatchFields) != 1 ||
		terms[0].MatchFields[0].Key != "metadata.name" || terms[0].MatchFields[0].Values[0] != "n1" {
		t.Errorf("affinity: %+v", terms)
	}
	if n, err := targetNode(pod); err != nil || n != "n1" {
		t.Errorf("targetNode = %q, %v", n, err)
	}
	if len(pod.Spec.Tolerations) != 6 || pod.Spec.Tolerations[0].TolerationSeconds != nil {
		t.Errorf("tolerations: %+v", pod.Spec.Tolerations)
	}
	if ds.Spec.Template.Spec.Tolerations[0].TolerationSeconds == nil || len(ds.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions) != 1 {
		t.Error("the DaemonSet's template was changed")
	}
}
