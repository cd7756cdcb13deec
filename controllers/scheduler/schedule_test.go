package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestSchedule(t *testing.T) {
	cordoned := func(n *corev1.Node) { n.Spec.Unschedulable = true }
	small := func(n *corev1.Node) { n.Status.Allocatable = resources("1", "1Gi", "", "110") }
	tests := []struct {
		name     string
		pod      *corev1.Pod
		nodes    []*corev1.Node
		pods     map[string][]*corev1.Pod
		want     string
		wantErr  string
		rejected map[string]string
	}{
		{name: "no nodes", pod: pod("p", "", ""), wantErr: "no nodes available to schedule pods", rejected: map[string]string{}},
		{name: "tie goes to lowest name", pod: pod("p", "", ""), nodes: []*corev1.Node{node("b"), node("a"), node("c")},
			want: "a", rejected: map[string]string{}},
		{name: "least requested wins", pod: pod("p", "500m", "1Gi"), nodes: []*corev1.Node{node("a"), node("b")},
			pods: map[string][]*corev1.Pod{"a": {pod("q", "2", "2Gi", onNode("a"))}}, want: "b", rejected: map[string]string{}},
		{name: "best-effort pods spread", pod: pod("p", "", ""), nodes: []*corev1.Node{node("a"), node("b")},
			pods: map[string][]*corev1.Pod{"a": {pod("q", "", "", onNode("a"))}}, want: "b", rejected: map[string]string{}},
		{name: "bigger node wins", pod: pod("p", "500m", "512Mi"), nodes: []*corev1.Node{node("a", small), node("b")},
			want: "b", rejected: map[string]string{}},
		{name: "only feasible node", pod: pod("p", "2", ""), nodes: []*corev1.Node{node("a", small), node("b", cordoned), node("c")},
			want: "c", rejected: map[string]string{"a": "Insufficient cpu", "b": reasonUnschedulable}},
		{name: "nothing fits", pod: pod("p", "2", "2Gi", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} }),
			nodes:    []*corev1.Node{node("a", small, labeled("disk", "ssd")), node("b"), node("c", cordoned)},
			wantErr:  "0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable.",
			rejected: map[string]string{"a": "Insufficient cpu, Insufficient memory", "b": reasonAffinity, "c": reasonUnschedulable}},
		{name: "counts nodes per reason", pod: pod("p", "", ""), nodes: []*corev1.Node{node("a", cordoned), node("b", cordoned)},
			wantErr:  "0/2 nodes are available: 2 node(s) were unschedulable.",
			rejected: map[string]string{"a": reasonUnschedulable, "b": reasonUnschedulable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rejected, err := Schedule(tt.pod, tt.nodes, tt.pods)
			if got != tt.want {
				t.Errorf("node = %q, want %q", got, tt.want)
			}
			if errString(err) != tt.wantErr || (err != nil) != IsUnschedulable(err) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if len(rejected) != len(tt.rejected) {
				t.Errorf("rejected = %v, want %v", rejected, tt.rejected)
			}
			for n, r := range tt.rejected {
				if rejected[n] != r {
					t.Errorf("rejected[%s] = %q, want %q", n, rejected[n], r)
				}
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestScore(t *testing.T) {
	tests := []struct {
		name   string
		pod    *corev1.Pod
		others []*corev1.Pod
		want   int64
	}{
		{"half of cpu and a quarter of memory", pod("p", "2", "2Gi"), nil, (50 + 75) / 2},
		{"others count", pod("p", "1", "2Gi"), []*corev1.Pod{pod("q", "1", "2Gi", onNode("n"))}, (50 + 50) / 2},
		{"finished pods do not", pod("p", "1", "2Gi"), []*corev1.Pod{pod("q", "1", "2Gi", onNode("n"),
			func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed })}, (75 + 75) / 2},
		{"defaults for no requests", pod("p", "", ""), nil, (97 + 97) / 2},
		{"over-committed scores 0", pod("p", "8", "16Gi"), nil, 0},
	}
	for _, tt := range tests {
		if got := Score(tt.pod, node("n"), tt.others); got != tt.want {
			t.Errorf("%s: score = %d, want %d", tt.name, got, tt.want)
		}
	}
}
