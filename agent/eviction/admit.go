package eviction

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/cm"
)

// nodeConditionMessageFmt is kubelet's message for a pod refused under
// pressure.
const nodeConditionMessageFmt = "The node had condition: %v. "

// Admit says whether a new pod may start on the node as it is, as
// kubelet's eviction manager admits pods: any pod when there is no
// pressure, and a critical one always; under MemoryPressure alone a pod
// that is not BestEffort, or one that tolerates the memory-pressure
// taint; under any other pressure none. A refusal has kubelet's reason
// (Evicted) and message.
func (m *Manager) Admit(pod *corev1.Pod) (ok bool, reason, message string) {
	m.mu.Lock()
	conds := slices.Clone(m.conditions)
	m.mu.Unlock()
	if len(conds) == 0 || cm.IsCritical(pod) {
		return true, "", ""
	}
	if len(conds) == 1 && conds[0] == corev1.NodeMemoryPressure &&
		(cm.QOSClass(pod) != corev1.PodQOSBestEffort || toleratesMemoryPressure(pod)) {
		return true, "", ""
	}
	return false, Reason, fmt.Sprintf(nodeConditionMessageFmt, conds)
}

// toleratesMemoryPressure: a toleration matches the NoSchedule taint
// node.kubernetes.io/memory-pressure (no value), as kube matches them.
func toleratesMemoryPressure(pod *corev1.Pod) bool {
	for _, t := range pod.Spec.Tolerations {
		keyOK := t.Key == corev1.TaintNodeMemoryPressure || t.Key == "" && t.Operator == corev1.TolerationOpExists
		effectOK := t.Effect == "" || t.Effect == corev1.TaintEffectNoSchedule
		valueOK := t.Operator == corev1.TolerationOpExists || t.Value == ""
		if keyOK && effectOK && valueOK {
			return true
		}
	}
	return false
}
