package nodelifecycle

import (
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const grace = 40 * time.Second

// testNode is created at t0 with Ready=True and no pressure, heartbeat at
// t0; mods adjust it.
func testNode(mods ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", CreationTimestamp: metav1.NewTime(t0)}}
	for _, t := range []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		st := corev1.ConditionFalse
		if t == corev1.NodeReady {
			st = corev1.ConditionTrue
		}
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: t, Status: st,
			LastHeartbeatTime: metav1.NewTime(t0), LastTransitionTime: metav1.NewTime(t0)})
	}
	for _, m := range mods {
		m(n)
	}
	return n
}

func withStatus(t corev1.NodeConditionType, s corev1.ConditionStatus) func(*corev1.Node) {
	return func(n *corev1.Node) { condition(n, t).Status = s }
}

func withTaint(key string, effect corev1.TaintEffect) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Effect: effect}) }
}

func leaseAt(t time.Time) *coordinationv1.Lease {
	return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n1", Namespace: corev1.NamespaceNodeLease},
		Spec: coordinationv1.LeaseSpec{RenewTime: &metav1.MicroTime{Time: t}}}
}

// summary renders a decision compactly: "Ready:NodeStatusUnknown" for a
// condition, "+key:Effect" / "-key:Effect" for taints.
func summary(d Decision) []string {
	var out []string
	for _, c := range d.MarkUnknown {
		out = append(out, string(c.Type)+":"+c.Reason)
	}
	for _, t := range d.AddTaints {
		out = append(out, "+"+t.Key+":"+string(t.Effect))
	}
	for _, t := range d.RemoveTaints {
		out = append(out, "-"+t.Key+":"+string(t.Effect))
	}
	return out
}

func TestEvaluate(t *testing.T) {
	const (
		unreach  = corev1.TaintNodeUnreachable
		notReady = corev1.TaintNodeNotReady
		noSched  = corev1.TaintEffectNoSchedule
		noExec   = corev1.TaintEffectNoExecute
	)
	allUnknown := []string{"Ready:NodeStatusUnknown", "MemoryPressure:NodeStatusUnknown",
		"DiskPressure:NodeStatusUnknown", "PIDPressure:NodeStatusUnknown"}
	tests := []struct {
		name  string
		node  *corev1.Node
		lease *coordinationv1.Lease
		now   time.Time
		want  []string
	}{
		{"healthy", testNode(), leaseAt(t0.Add(30 * time.Second)), t0.Add(60 * time.Second), nil},
		{"lease exactly at grace", testNode(), leaseAt(t0), t0.Add(grace), nil},
		{"lease expired", testNode(), leaseAt(t0), t0.Add(grace + time.Second),
			append(allUnknown, "+"+unreach+":NoSchedule", "+"+unreach+":NoExecute")},
		{"a fresh heartbeat counts with an old lease", testNode(), leaseAt(t0.Add(-time.Minute)), t0.Add(time.Second), nil},
		{"both old", testNode(), leaseAt(t0.Add(-time.Minute)), t0.Add(grace + time.Second),
			append(allUnknown, "+"+unreach+":NoSchedule", "+"+unreach+":NoExecute")},
		{"fresh lease wins over an old heartbeat", testNode(), leaseAt(t0.Add(time.Minute)), t0.Add(90 * time.Second), nil},
		{"no lease: heartbeat fresh", testNode(), nil, t0.Add(30 * time.Second), nil},
		{"no lease: heartbeat old", testNode(), nil, t0.Add(time.Minute),
			append(allUnknown, "+"+unreach+":NoSchedule", "+"+unreach+":NoExecute")},
		{"already unknown and tainted", testNode(withStatus(corev1.NodeReady, corev1.ConditionUnknown),
			withStatus(corev1.NodeMemoryPressure, corev1.ConditionUnknown), withStatus(corev1.NodeDiskPressure, corev1.ConditionUnknown),
			withStatus(corev1.NodePIDPressure, corev1.ConditionUnknown), withTaint(unreach, noSched), withTaint(unreach, noExec)),
			leaseAt(t0), t0.Add(time.Hour), nil},
		{"lease renewed but Ready still unknown keeps the taints", testNode(withStatus(corev1.NodeReady, corev1.ConditionUnknown),
			withTaint(unreach, noSched), withTaint(unreach, noExec)), leaseAt(t0), t0.Add(time.Second), nil},
		{"back to Ready removes unreachable", testNode(withTaint(unreach, noSched), withTaint(unreach, noExec)),
			leaseAt(t0), t0.Add(time.Second), []string{"-" + unreach + ":NoSchedule", "-" + unreach + ":NoExecute"}},
		{"Ready=False is not-ready", testNode(withStatus(corev1.NodeReady, corev1.ConditionFalse)), leaseAt(t0), t0,
			[]string{"+" + notReady + ":NoSchedule", "+" + notReady + ":NoExecute"}},
		{"not-ready swaps for unreachable", testNode(withStatus(corev1.NodeReady, corev1.ConditionFalse),
			withTaint(notReady, noSched), withTaint(notReady, noExec)), leaseAt(t0), t0.Add(time.Hour),
			append(allUnknown, "+"+unreach+":NoSchedule", "+"+unreach+":NoExecute", "-"+notReady+":NoSchedule", "-"+notReady+":NoExecute")},
		{"Ready again removes not-ready", testNode(withTaint(notReady, noSched), withTaint(notReady, noExec)), leaseAt(t0), t0,
			[]string{"-" + notReady + ":NoSchedule", "-" + notReady + ":NoExecute"}},
		{"half the pair is completed", testNode(withStatus(corev1.NodeReady, corev1.ConditionFalse), withTaint(notReady, noExec)),
			leaseAt(t0), t0, []string{"+" + notReady + ":NoSchedule"}},
		{"memory pressure", testNode(withStatus(corev1.NodeMemoryPressure, corev1.ConditionTrue)), leaseAt(t0), t0,
			[]string{"+" + corev1.TaintNodeMemoryPressure + ":NoSchedule"}},
		{"disk pressure", testNode(withStatus(corev1.NodeDiskPressure, corev1.ConditionTrue)), leaseAt(t0), t0,
			[]string{"+" + corev1.TaintNodeDiskPressure + ":NoSchedule"}},
		{"pid pressure", testNode(withStatus(corev1.NodePIDPressure, corev1.ConditionTrue)), leaseAt(t0), t0,
			[]string{"+" + corev1.TaintNodePIDPressure + ":NoSchedule"}},
		{"pressure gone removes its taint", testNode(withStatus(corev1.NodeDiskPressure, corev1.ConditionFalse),
			withTaint(corev1.TaintNodeDiskPressure, noSched), withTaint(corev1.TaintNodeMemoryPressure, noSched)), leaseAt(t0), t0,
			[]string{"-" + corev1.TaintNodeDiskPressure + ":NoSchedule", "-" + corev1.TaintNodeMemoryPressure + ":NoSchedule"}},
		{"pressure taint goes once conditions are unknown", testNode(withStatus(corev1.NodeDiskPressure, corev1.ConditionTrue),
			withTaint(corev1.TaintNodeDiskPressure, noSched)), leaseAt(t0), t0.Add(time.Hour),
			append(allUnknown, "+"+unreach+":NoSchedule", "+"+unreach+":NoExecute", "-"+corev1.TaintNodeDiskPressure+":NoSchedule")},
		{"cordoned", testNode(func(n *corev1.Node) { n.Spec.Unschedulable = true }), leaseAt(t0), t0,
			[]string{"+" + corev1.TaintNodeUnschedulable + ":NoSchedule"}},
		{"uncordoned", testNode(withTaint(corev1.TaintNodeUnschedulable, noSched)), leaseAt(t0), t0,
			[]string{"-" + corev1.TaintNodeUnschedulable + ":NoSchedule"}},
		{"other taints are left alone", testNode(withTaint("example.com/gpu", noSched), withTaint("example.com/x", noExec)),
			leaseAt(t0), t0, nil},
		{"new node gets its grace from creation", testNode(func(n *corev1.Node) { n.Status.Conditions = nil }), nil,
			t0.Add(30 * time.Second), nil},
		{"node that never reported", testNode(func(n *corev1.Node) { n.Status.Conditions = nil }), nil, t0.Add(time.Minute),
			[]string{"Ready:NodeStatusNeverUpdated", "MemoryPressure:NodeStatusNeverUpdated", "DiskPressure:NodeStatusNeverUpdated",
				"PIDPressure:NodeStatusNeverUpdated", "+" + unreach + ":NoSchedule", "+" + unreach + ":NoExecute"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Evaluate(tt.node, tt.lease, tt.now, grace)
			if got := summary(d); !slices.Equal(got, tt.want) {
				t.Errorf("decision = %v\nwant       %v", got, tt.want)
			}
			if d.Empty() != (len(tt.want) == 0) {
				t.Errorf("Empty() = %v", d.Empty())
			}
		})
	}
}

func TestEvaluateDetails(t *testing.T) {
	now := t0.Add(time.Hour)
	d := Evaluate(testNode(), leaseAt(t0), now, grace)
	for _, c := range d.MarkUnknown {
		if c.Status != corev1.ConditionUnknown || c.Message != MessageNodeStatusUnknown {
			t.Errorf("condition %+v", c)
		}
	}
	for _, tn := range d.AddTaints {
		if (tn.Effect == corev1.TaintEffectNoExecute) != (tn.TimeAdded != nil && tn.TimeAdded.Time.Equal(now)) {
			t.Errorf("taint %+v: NoExecute taints, and only they, carry TimeAdded", tn)
		}
	}
}

func TestApply(t *testing.T) {
	now := t0.Add(time.Hour)
	node := testNode(withTaint("example.com/keep", corev1.TaintEffectNoSchedule), withTaint(corev1.TaintNodeNotReady, corev1.TaintEffectNoSchedule))
	d := Evaluate(node, leaseAt(t0), now, grace)
	out := withTaints(withConditions(node, d.MarkUnknown, now), d.AddTaints, d.RemoveTaints)
	ready := condition(out, corev1.NodeReady)
	if ready.Status != corev1.ConditionUnknown || ready.Reason != ReasonNodeStatusUnknown ||
		!ready.LastTransitionTime.Time.Equal(now) || !ready.LastHeartbeatTime.Time.Equal(t0) {
		t.Errorf("Ready = %+v", ready)
	}
	var keys []string
	for _, tn := range out.Spec.Taints {
		keys = append(keys, tn.ToString())
	}
	want := []string{"example.com/keep:NoSchedule", "node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"}
	if !slices.Equal(keys, want) {
		t.Errorf("taints = %v, want %v", keys, want)
	}
	if len(node.Spec.Taints) != 2 || condition(node, corev1.NodeReady).Status != corev1.ConditionTrue {
		t.Error("apply changed its input")
	}
	if !Evaluate(out, leaseAt(t0), now, grace).Empty() {
		t.Error("a node with the decision applied needs more changes")
	}
}
