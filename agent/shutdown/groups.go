package shutdown

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/api/priority"
)

// Group is pods terminated together, within Grace.
type Group struct {
	// MinPriority is the lowest priority the group takes.
	MinPriority int32
	Grace       time.Duration
	Pods        []*corev1.Pod
}

// Groups splits pods as kubelet does with --shutdown-grace-period and
// --shutdown-grace-period-critical-pods: ordinary pods (priority below
// system-cluster-critical's) get total-critical, critical pods critical,
// in that order. Pods below the lowest group go to it, above the highest
// to it. Empty groups stay, so the order of the periods is kept.
func Groups(pods []*corev1.Pod, total, critical time.Duration) []Group {
	groups := []Group{
		{MinPriority: priority.DefaultWhenNoDefaultClass, Grace: total - critical},
		{MinPriority: priority.SystemCritical, Grace: critical},
	}
	for _, p := range pods {
		g := &groups[groupOf(groups, priority.Of(p))]
		g.Pods = append(g.Pods, p)
	}
	return groups
}

// groupOf is the last group whose MinPriority is at most p, else the
// first.
func groupOf(groups []Group, p int32) int {
	i := 0
	for j, g := range groups {
		if g.MinPriority <= p {
			i = j
		}
	}
	return i
}

// PodGrace is the time a pod gets to stop in a group: the group's, or the
// pod's own terminationGracePeriodSeconds when shorter.
func PodGrace(pod *corev1.Pod, group time.Duration) time.Duration {
	if s := pod.Spec.TerminationGracePeriodSeconds; s != nil && time.Duration(*s)*time.Second < group {
		return time.Duration(*s) * time.Second
	}
	return group
}
