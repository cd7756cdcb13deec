package scheduler

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// Requests a pod without any is counted with when scoring (not filtering),
// as kube-scheduler does, so that such pods still spread across nodes.
const (
	defaultMilliCPURequest = 100               // 0.1 core
	defaultMemoryRequest   = 200 * 1024 * 1024 // 200 MiB
)

// podRequests is what a pod asks of its node, computed as kube does: the
// larger of what its app containers (plus sidecars) need together and what
// the largest init container needs while it runs (plus the sidecars started
// before it), plus the pod overhead.
func podRequests(pod *corev1.Pod) corev1.ResourceList {
	reqs := corev1.ResourceList{}
	for _, c := range pod.Spec.Containers {
		add(reqs, c.Resources.Requests)
	}
	sidecars, initMax := corev1.ResourceList{}, corev1.ResourceList{}
	for _, c := range pod.Spec.InitContainers {
		need := c.Resources.Requests.DeepCopy()
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(reqs, need)
			add(sidecars, need)
			need = sidecars.DeepCopy()
		} else {
			add(need, sidecars)
		}
		maxInto(initMax, need)
	}
	maxInto(reqs, initMax)
	add(reqs, pod.Spec.Overhead)
	return reqs
}

func add(into, l corev1.ResourceList) {
	for name, q := range l {
		sum := into[name]
		sum.Add(q)
		into[name] = sum
	}
}

func maxInto(into, l corev1.ResourceList) {
	for name, q := range l {
		if cur, ok := into[name]; !ok || q.Cmp(cur) > 0 {
			into[name] = q.DeepCopy()
		}
	}
}

// sumRequests adds up the requests of pods.
func sumRequests(pods []*corev1.Pod) corev1.ResourceList {
	total := corev1.ResourceList{}
	for _, p := range pods {
		add(total, podRequests(p))
	}
	return total
}

// checkResources: one more pod must fit the node's allocatable pod count,
// and every resource the pod requests must fit what is left of allocatable
// after the requests of the pods already there. A resource the pod does not
// request is not checked, as in kube.
func checkResources(pod *corev1.Pod, node *corev1.Node, podsOnNode []*corev1.Pod) []string {
	alloc := node.Status.Allocatable
	var reasons []string
	if int64(len(podsOnNode))+1 > alloc.Pods().Value() {
		reasons = append(reasons, reasonTooManyPods)
	}
	want, used := podRequests(pod), sumRequests(podsOnNode)
	for _, name := range sortedNames(want) {
		q := want[name]
		if name == corev1.ResourcePods || q.Sign() <= 0 {
			continue
		}
		free := alloc[name].DeepCopy()
		free.Sub(used[name])
		if q.Cmp(free) > 0 {
			reasons = append(reasons, reasonInsufficient+string(name))
		}
	}
	return reasons
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(l))
	for name := range l {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// nonZero is what a pod counts for in scoring: its cpu (in millicores) and
// memory (in bytes) requests, or the defaults when it requests none.
func nonZero(pod *corev1.Pod) (milliCPU, memory int64) {
	reqs := podRequests(pod)
	milliCPU, memory = reqs.Cpu().MilliValue(), reqs.Memory().Value()
	if milliCPU == 0 {
		milliCPU = defaultMilliCPURequest
	}
	if memory == 0 {
		memory = defaultMemoryRequest
	}
	return milliCPU, memory
}
