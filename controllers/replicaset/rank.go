package replicaset

import (
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// DeletionCostAnnotation lets users order the deletion of a ReplicaSet's
// pods on scale-down: lower costs go first (kube's pod-deletion-cost).
const DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// PodsToDelete returns the n pods to delete first, kube's order: unscheduled
// before scheduled, Pending before Unknown before Running, not ready before
// ready, lower deletion cost first, pods sharing their node with more of
// the set first, then the more recently ready, the more restarted and the
// younger.
func PodsToDelete(pods []*corev1.Pod, n int) []*corev1.Pod {
	if n >= len(pods) {
		return pods
	}
	perNode := map[string]int{}
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			perNode[p.Spec.NodeName]++
		}
	}
	ranked := append([]*corev1.Pod(nil), pods...)
	sort.SliceStable(ranked, func(i, j int) bool { return deleteBefore(ranked[i], ranked[j], perNode) })
	return ranked[:n]
}

// deleteBefore is kube's ActivePodsWithRanks order, with the pod name as
// the last tie-break so the choice is the same every time.
func deleteBefore(a, b *corev1.Pod, perNode map[string]int) bool {
	keys := [][2]int64{
		{boolKey(a.Spec.NodeName != ""), boolKey(b.Spec.NodeName != "")},
		{phaseKey(a.Status.Phase), phaseKey(b.Status.Phase)},
		{boolKey(IsPodReady(a)), boolKey(IsPodReady(b))},
		{deletionCost(a), deletionCost(b)},
		{-int64(perNode[a.Spec.NodeName]), -int64(perNode[b.Spec.NodeName])},
		{-readySince(a), -readySince(b)},
		{-restarts(a), -restarts(b)},
		{-a.CreationTimestamp.UnixNano(), -b.CreationTimestamp.UnixNano()},
	}
	for _, k := range keys {
		if k[0] != k[1] {
			return k[0] < k[1]
		}
	}
	return a.Name < b.Name
}

func boolKey(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func phaseKey(p corev1.PodPhase) int64 {
	switch p {
	case corev1.PodPending:
		return 0
	case corev1.PodRunning:
		return 2
	}
	return 1
}

// deletionCost is the pod's annotation; missing or invalid counts as 0.
func deletionCost(p *corev1.Pod) int64 {
	v, err := strconv.ParseInt(p.Annotations[DeletionCostAnnotation], 10, 32)
	if err != nil {
		return 0
	}
	return v
}

// readySince is when a ready pod became ready (0 for one that is not).
func readySince(p *corev1.Pod) int64 {
	if c := readyCondition(p); c != nil && c.Status == corev1.ConditionTrue {
		return c.LastTransitionTime.UnixNano()
	}
	return 0
}

func restarts(p *corev1.Pod) int64 {
	var most int32
	for _, s := range p.Status.ContainerStatuses {
		most = max(most, s.RestartCount)
	}
	return int64(most)
}

func readyCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// IsPodReady: the pod's Ready condition is True.
func IsPodReady(p *corev1.Pod) bool {
	c := readyCondition(p)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsPodAvailable: ready for at least minReadySeconds at now.
func IsPodAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	c := readyCondition(p)
	if c == nil || c.Status != corev1.ConditionTrue {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	d := time.Duration(minReadySeconds) * time.Second
	return !c.LastTransitionTime.IsZero() && !c.LastTransitionTime.Add(d).After(now)
}

// IsPodActive: not finished and not being deleted.
func IsPodActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}
