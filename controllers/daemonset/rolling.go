package daemonset

import (
	corev1 "k8s.io/api/core/v1"
	intstrutil "k8s.io/apimachinery/pkg/util/intstr"
)

// rollingUpdate is kube's: without surge, old pods are deleted (and the
// next manage step recreates them) while at most maxUnavailable nodes are
// without an available pod; with surge, a new pod is created beside an
// old one on at most maxSurge nodes at a time, and the old one deleted
// once the new one is available. An old pod that is not available is
// replaced at once in both cases.
func rollingUpdate(s state) Actions {
	maxSurge, maxUnavailable := s.budgets()
	if maxSurge == 0 {
		return s.replaceWithin(maxUnavailable)
	}
	return s.surgeWithin(maxSurge)
}

// budgets scales maxSurge and maxUnavailable (rounding up) on the number
// of nodes that should run a pod; when both are 0, maxUnavailable is 1.
func (s state) budgets() (surge, unavailable int) {
	desired := 0
	for _, node := range s.nodes {
		if nodePlacement(node, s.ds).run {
			desired++
		}
	}
	ru := s.ds.Spec.UpdateStrategy.RollingUpdate
	if ru != nil {
		surge = scaled(ru.MaxSurge, desired)
		unavailable = scaled(ru.MaxUnavailable, desired)
	}
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable
}

func scaled(v *intstrutil.IntOrString, total int) int {
	if v == nil {
		return 0
	}
	n, err := intstrutil.GetScaledValueFromIntOrPercent(v, total, true)
	if err != nil {
		return 0
	}
	return n
}

// nodesOfInterest are the nodes that should run a pod, and those that
// have one.
func (s state) nodesOfInterest() []string {
	set := map[string]bool{}
	for _, node := range s.nodes {
		if nodePlacement(node, s.ds).run {
			set[node.Name] = true
		}
	}
	for name := range s.byNode {
		set[name] = true
	}
	return sortedKeys(set)
}

// onNode splits a node's pods (not being deleted) into its new and old
// one; ok is false when it has more than one of either.
func (s state) onNode(name string) (newPod, oldPod *corev1.Pod, ok bool) {
	for _, pod := range s.byNode[name] {
		if pod.DeletionTimestamp != nil {
			continue
		}
		slot := &oldPod
		if updated(pod, s.hash) {
			slot = &newPod
		}
		if *slot != nil {
			return nil, nil, false
		}
		*slot = pod
	}
	return newPod, oldPod, true
}

func (s state) replaceWithin(maxUnavailable int) Actions {
	unavailable := 0
	var replace, candidates []*corev1.Pod
	for _, name := range s.nodesOfInterest() {
		newPod, oldPod, ok := s.onNode(name)
		switch {
		case !ok || (newPod == nil) == (oldPod == nil):
			unavailable++ // the manage step settles this node
		case newPod != nil:
			if !s.available(newPod) {
				unavailable++
			}
		case !s.available(oldPod):
			replace = append(replace, oldPod)
		default:
			candidates = append(candidates, oldPod)
		}
	}
	n := min(max(maxUnavailable-unavailable, 0), len(candidates))
	return Actions{Delete: append(replace, candidates[:n]...)}
}

func (s state) surgeWithin(maxSurge int) Actions {
	surged := 0
	var a Actions
	var replace, candidates []string
	for _, name := range s.nodesOfInterest() {
		newPod, oldPod, ok := s.onNode(name)
		switch {
		case !ok:
			surged++
		case oldPod == nil:
			// nothing to update here; the manage step settles the node
		case newPod == nil && !s.available(oldPod):
			replace = append(replace, name)
		case newPod == nil:
			candidates = append(candidates, name)
		case !s.available(newPod):
			surged++
		default:
			a.Delete = append(a.Delete, oldPod)
		}
	}
	n := min(max(maxSurge-surged, 0), len(candidates))
	a.Create = append(replace, candidates[:n]...)
	return a
}

func (s state) available(pod *corev1.Pod) bool {
	return available(pod, s.ds.Spec.MinReadySeconds, s.now)
}
