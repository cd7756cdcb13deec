package daemonset

import (
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	intstrutil "k8s.io/apimachinery/pkg/util/intstr"
)

// Actions are what one sync does: create a pod on each node of Create,
// delete each pod of Delete.
type Actions struct {
	Create []string
	Delete []*corev1.Pod
}

// Empty reports whether there is nothing to do.
func (a Actions) Empty() bool { return len(a.Create) == 0 && len(a.Delete) == 0 }

// state is what a plan is computed from: the DaemonSet, the current
// revision's hash, the nodes, the DaemonSet's live pods by target node,
// and the time (for minReadySeconds).
type state struct {
	ds     *appsv1.DaemonSet
	hash   string
	nodes  []*corev1.Node
	byNode map[string][]*corev1.Pod
	now    time.Time
}

// Plan is kube's manage step (a pod on every node that should run one,
// none elsewhere, failed ones replaced); when that has nothing to do, the
// RollingUpdate step replaces old pods within maxUnavailable or maxSurge.
func Plan(s state) Actions {
	a := manage(s)
	if a.Empty() && s.ds.Spec.UpdateStrategy.Type != appsv1.OnDeleteDaemonSetStrategyType {
		return rollingUpdate(s)
	}
	return a
}

func manage(s state) Actions {
	var a Actions
	known := map[string]bool{}
	for _, node := range s.nodes {
		known[node.Name] = true
		create, del := s.manageNode(node)
		if create {
			a.Create = append(a.Create, node.Name)
		}
		a.Delete = append(a.Delete, del...)
	}
	// Pods for nodes that are gone: the unscheduled ones never will be.
	for _, name := range sortedKeys(s.byNode) {
		for _, pod := range s.byNode[name] {
			if !known[name] && pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil {
				a.Delete = append(a.Delete, pod)
			}
		}
	}
	return a
}

// manageNode is kube's podsShouldBeOnNode.
func (s state) manageNode(node *corev1.Node) (create bool, del []*corev1.Pod) {
	p := nodePlacement(node, s.ds)
	pods := s.byNode[node.Name]
	switch {
	case p.run && len(pods) == 0:
		return true, nil
	case p.keep:
		var live []*corev1.Pod
		for _, pod := range pods {
			switch {
			case pod.DeletionTimestamp != nil:
			case pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded:
				del = append(del, pod)
			default:
				live = append(live, pod)
			}
		}
		if !surges(s.ds) {
			return false, append(del, extraPods(live)...)
		}
		if len(live) == 0 {
			return p.run, del
		}
		return false, append(del, s.surgedExtra(live)...)
	default:
		for _, pod := range pods {
			if pod.DeletionTimestamp == nil {
				del = append(del, pod)
			}
		}
		return false, del
	}
}

// extraPods: without surge a node keeps only its oldest pod.
func extraPods(live []*corev1.Pod) []*corev1.Pod {
	if len(live) <= 1 {
		return nil
	}
	oldestFirst(live)
	return live[1:]
}

// surgedExtra: with surge a node keeps its oldest new pod and its oldest
// old pod, and the old one only while it is ready and the new one is not
// yet available.
func (s state) surgedExtra(live []*corev1.Pod) []*corev1.Pod {
	oldestFirst(live)
	var del []*corev1.Pod
	var newest, oldest *corev1.Pod
	for _, pod := range live {
		switch {
		case updated(pod, s.hash) && newest == nil:
			newest = pod
		case !updated(pod, s.hash) && oldest == nil:
			oldest = pod
		default:
			del = append(del, pod)
		}
	}
	if newest != nil && oldest != nil &&
		(!podReady(oldest) || available(newest, s.ds.Spec.MinReadySeconds, s.now)) {
		del = append(del, oldest)
	}
	return del
}

func surges(ds *appsv1.DaemonSet) bool {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil || ru.MaxSurge == nil {
		return false
	}
	v, err := intstrutil.GetScaledValueFromIntOrPercent(ru.MaxSurge, 100, true)
	return err == nil && v > 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
