package scheduler

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// FitError says that no node can take a pod. Its message reads like
// kube-scheduler's: "0/3 nodes are available: 1 Insufficient cpu, 2
// node(s) didn't match Pod's node affinity/selector."
type FitError struct {
	// NumAllNodes is how many nodes were considered.
	NumAllNodes int
	// Reasons counts, for each reason, the nodes that gave it.
	Reasons map[string]int
	// PreFilter, when set, is why no node was tried ("pod has unbound
	// immediate PersistentVolumeClaims").
	PreFilter string
}

func (e *FitError) Error() string {
	if e.NumAllNodes == 0 {
		return "no nodes available to schedule pods"
	}
	if e.PreFilter != "" {
		return fmt.Sprintf("0/%d nodes are available: %s.", e.NumAllNodes, e.PreFilter)
	}
	parts := make([]string, 0, len(e.Reasons))
	for reason, n := range e.Reasons {
		parts = append(parts, fmt.Sprintf("%d %s", n, reason))
	}
	slices.Sort(parts)
	return fmt.Sprintf("0/%d nodes are available: %s.", e.NumAllNodes, strings.Join(parts, ", "))
}

// IsUnschedulable reports whether err says that no node fits the pod.
func IsUnschedulable(err error) bool {
	var fe *FitError
	return errors.As(err, &fe)
}

// Schedule picks the node for pod among nodes, given the pods on each node
// by node name (terminal ones are ignored). It returns the chosen node, the
// reason each rejected node gave, and a *FitError when no node fits. Among
// the nodes that fit, the one with the highest score wins, and on a tie the
// lowest name, so that the same inputs always give the same node.
func Schedule(pod *corev1.Pod, nodes []*corev1.Node, podsByNode map[string][]*corev1.Pod) (string, map[string]string, error) {
	return schedule(pod, nodes, podsByNode)
}

// schedule is Schedule with more checks, run after the usual ones.
func schedule(pod *corev1.Pod, nodes []*corev1.Node, podsByNode map[string][]*corev1.Pod, extra ...check) (string, map[string]string, error) {
	reasons := map[string]string{}
	fitErr := &FitError{NumAllNodes: len(nodes), Reasons: map[string]int{}}
	best, bestScore := "", int64(-1)
	for _, node := range nodes {
		onNode := activePods(podsByNode[node.Name])
		if r := filterReasons(pod, node, onNode, extra...); len(r) > 0 {
			reasons[node.Name] = strings.Join(r, ", ")
			for _, x := range r {
				fitErr.Reasons[x]++
			}
			continue
		}
		s := Score(pod, node, onNode)
		if s > bestScore || (s == bestScore && node.Name < best) {
			best, bestScore = node.Name, s
		}
	}
	if best == "" {
		return "", reasons, fitErr
	}
	return best, reasons, nil
}

// Score is kube's LeastAllocated score, 0 to 100: for cpu and for memory,
// the share of the node's allocatable still free once pod is placed next to
// podsOnNode, averaged. Pods without requests count with kube's defaults
// (100m cpu, 200Mi memory).
func Score(pod *corev1.Pod, node *corev1.Node, podsOnNode []*corev1.Pod) int64 {
	cpu, mem := nonZero(pod)
	for _, p := range activePods(podsOnNode) {
		c, m := nonZero(p)
		cpu, mem = cpu+c, mem+m
	}
	alloc := node.Status.Allocatable
	return (leastRequested(cpu, alloc.Cpu().MilliValue()) + leastRequested(mem, alloc.Memory().Value())) / 2
}

func leastRequested(requested, capacity int64) int64 {
	if capacity <= 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * 100 / capacity
}
