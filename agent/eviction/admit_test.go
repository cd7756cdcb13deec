package eviction

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestAdmitUnderPressure(t *testing.T) {
	n := newFakeNode(500*mi, 900*mi)
	n.summary.Node.Fs.AvailableBytes = ptr[uint64](50 << 30)
	m, _ := newTestManager(t, n, Config{Thresholds: mustThresholds(t, map[string]string{"memory.available": "100Mi", "nodefs.available": "10%"}, nil, nil, nil)})
	be := n.addPod("besteffort", 0, 0, nil, nil)
	burst := n.addPod("burstable", 0, 0, res("memory", "10Mi"), nil)
	tolerant := n.addPod("tolerant", 0, 0, nil, nil)
	tolerant.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	crit := n.addPod("critical", 0, 0, nil, nil)
	crit.Spec.Priority = ptr[int32](2000000000)
	n.pods = nil // new pods: none runs yet
	admit := func(p *corev1.Pod) (bool, string) {
		ok, _, msg := m.Admit(p)
		return ok, msg
	}
	if ok, _ := admit(be); !ok {
		t.Error("refused without pressure")
	}
	n.summary.Node.Memory.AvailableBytes = ptr[uint64](50 * mi)
	m.synchronize(context.Background())
	for _, tc := range []struct {
		pod  *corev1.Pod
		want bool
	}{{be, false}, {burst, true}, {tolerant, true}, {crit, true}} {
		if ok, msg := admit(tc.pod); ok != tc.want {
			t.Errorf("MemoryPressure: %s admitted %v (%q), want %v", tc.pod.Name, ok, msg, tc.want)
		}
	}
	if ok, reason, msg := m.Admit(be); ok || reason != "Evicted" || msg != "The node had condition: [MemoryPressure]. " {
		t.Errorf("refusal %q %q", reason, msg)
	}
	n.summary.Node.Fs.AvailableBytes = ptr[uint64](5 << 30)
	m.synchronize(context.Background())
	if ok, msg := admit(burst); ok || msg != "The node had condition: [DiskPressure MemoryPressure]. " {
		t.Errorf("DiskPressure: burstable admitted %v %q, want refused", ok, msg)
	}
	if ok, _ := admit(crit); !ok {
		t.Error("a critical pod refused")
	}
}
