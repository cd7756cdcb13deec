package defaults

import (
	corev1 "k8s.io/api/core/v1"
)

// qosResources are the only resources that decide a pod's QoS class.
func qosResources() []corev1.ResourceName {
	return []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}
}

// PodQOSClass computes the QoS class kube-apiserver records in
// status.qosClass. With pod-level resources (spec.resources) those decide;
// otherwise the init and app containers' resources do:
//   - BestEffort: no container requests or limits any CPU or memory;
//   - Guaranteed: every container limits both CPU and memory, and the summed
//     requests equal the summed limits;
//   - Burstable: anything else.
//
// It reads requests as given: call Pod first to copy limits into unset
// requests, as kube-apiserver does before it computes the class.
func PodQOSClass(p *corev1.Pod) corev1.PodQOSClass {
	if r := p.Spec.Resources; r != nil && (len(r.Requests) > 0 || len(r.Limits) > 0) {
		return qosClass(qosSum(r.Requests), qosSum(r.Limits), limitsCPUAndMemory(r.Limits))
	}
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	all := append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...)
	for _, c := range all {
		addQoS(requests, c.Resources.Requests)
		addQoS(limits, c.Resources.Limits)
		guaranteed = guaranteed && limitsCPUAndMemory(c.Resources.Limits)
	}
	return qosClass(requests, limits, guaranteed)
}

func qosClass(requests, limits corev1.ResourceList, allLimited bool) corev1.PodQOSClass {
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if allLimited && sameQuantities(requests, limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// qosSum keeps only the positive CPU and memory quantities of list.
func qosSum(list corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	addQoS(out, list)
	return out
}

// addQoS adds the positive CPU and memory quantities of list into sum.
func addQoS(sum, list corev1.ResourceList) {
	for _, name := range qosResources() {
		q, ok := list[name]
		if !ok || q.Sign() <= 0 {
			continue
		}
		total := sum[name]
		total.Add(q)
		sum[name] = total
	}
}

func limitsCPUAndMemory(limits corev1.ResourceList) bool {
	for _, name := range qosResources() {
		if q, ok := limits[name]; !ok || q.Sign() <= 0 {
			return false
		}
	}
	return true
}

func sameQuantities(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for name, qa := range a {
		qb, ok := b[name]
		if !ok || qa.Cmp(qb) != 0 {
			return false
		}
	}
	return true
}
