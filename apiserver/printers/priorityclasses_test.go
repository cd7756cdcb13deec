package printers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
)

func TestPriorityClassPrinter(t *testing.T) {
	p, ok := For("priorityclasses")
	if got, want := header(p.Columns(), false), "NAME | VALUE | GLOBAL-DEFAULT | AGE | PREEMPTIONPOLICY"; !ok || got != want {
		t.Errorf("header\n got %q\nwant %q", got, want)
	}
	never := corev1.PreemptNever
	pc := &schedulingv1.PriorityClass{ObjectMeta: objectMeta("batch"), Value: 1000, GlobalDefault: true, PreemptionPolicy: &never}
	checkCells(t, row(t, "priorityclasses", pc), []interface{}{"batch", int64(1000), true, "10m", "Never"})
}
