package podgc

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

func terminated(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func evicted(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed && p.Status.Reason == "Evicted"
}

// excessTerminated are the terminated pods above threshold, the ones to
// delete: evicted first, then oldest first, names breaking ties.
func excessTerminated(pods []*corev1.Pod, threshold int) []*corev1.Pod {
	if threshold <= 0 {
		return nil
	}
	var done []*corev1.Pod
	for _, p := range pods {
		if terminated(p) {
			done = append(done, p)
		}
	}
	if len(done) <= threshold {
		return nil
	}
	slices.SortFunc(done, func(a, b *corev1.Pod) int {
		if ea, eb := evicted(a), evicted(b); ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return done[:len(done)-threshold]
}

// unscheduledTerminating are pods being deleted that no node ever ran.
func unscheduledTerminating(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil && p.Spec.NodeName == "" {
			out = append(out, p)
		}
	}
	return out
}

// terminatingOutOfService are pods being deleted on a node that is not
// Ready and is tainted node.kubernetes.io/out-of-service.
func terminatingOutOfService(pods []*corev1.Pod, nodes map[string]*corev1.Node) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		n := nodes[p.Spec.NodeName]
		if p.DeletionTimestamp != nil && n != nil && !ready(n) && outOfService(n) {
			out = append(out, p)
		}
	}
	return out
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func outOfService(n *corev1.Node) bool {
	return slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == corev1.TaintNodeOutOfService })
}

// missingNodes are the names of nodes pods are bound to that are not known.
func missingNodes(pods []*corev1.Pod, nodes map[string]*corev1.Node) []string {
	var out []string
	for _, p := range pods {
		if name := p.Spec.NodeName; name != "" && nodes[name] == nil && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// onNode are the pods bound to node.
func onNode(pods []*corev1.Pod, node string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.Spec.NodeName == node {
			out = append(out, p)
		}
	}
	return out
}
