package eviction

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// Kubelet's messages for a pod over one of its local storage limits.
const (
	emptyDirMessageFmt                  = "Usage of EmptyDir volume %q exceeds the limit %q. "
	podEphemeralStorageMessageFmt       = "Pod ephemeral local storage usage exceeds the total limit of containers %s. "
	containerEphemeralStorageMessageFmt = "Container %s exceeded its local ephemeral storage limit %q. "
)

// overLocalLimit says why the pod is over one of its local storage limits,
// as kubelet checks them: an emptyDir over its sizeLimit, then the pod's
// ephemeral storage (its containers' logs and layers and its local
// volumes) over its containers' summed ephemeral-storage limits, then one
// container's logs and layer over its own; "" when it is not.
func overLocalLimit(pod *corev1.Pod, s statsapi.PodStats) string {
	if msg := emptyDirOverLimit(pod, s); msg != "" {
		return msg
	}
	if msg := podOverEphemeralLimit(pod, s); msg != "" {
		return msg
	}
	return containerOverEphemeralLimit(pod, s)
}

func emptyDirOverLimit(pod *corev1.Pod, s statsapi.PodStats) string {
	used := map[string]uint64{}
	for _, v := range s.VolumeStats {
		if v.UsedBytes != nil {
			used[v.Name] = *v.UsedBytes
		}
	}
	for _, v := range pod.Spec.Volumes {
		if v.EmptyDir == nil || v.EmptyDir.SizeLimit == nil || v.EmptyDir.SizeLimit.Sign() <= 0 {
			continue
		}
		u, ok := used[v.Name]
		if ok && bytesQuantity(int64(u)).Cmp(*v.EmptyDir.SizeLimit) > 0 {
			return fmt.Sprintf(emptyDirMessageFmt, v.Name, v.EmptyDir.SizeLimit.String())
		}
	}
	return ""
}

func podOverEphemeralLimit(pod *corev1.Pod, s statsapi.PodStats) string {
	limit, ok := podEphemeralLimit(pod)
	if !ok {
		return ""
	}
	used, _ := podDiskUsage(s)
	if bytesQuantity(used).Cmp(limit) > 0 {
		return fmt.Sprintf(podEphemeralStorageMessageFmt, limit.String())
	}
	return ""
}

// podEphemeralLimit sums the containers' (and sidecars') ephemeral-storage
// limits, or an init container's if larger; ok false when none sets one.
func podEphemeralLimit(pod *corev1.Pod) (resource.Quantity, bool) {
	var sum, initMax resource.Quantity
	found := false
	add := func(into *resource.Quantity, c corev1.Container) {
		if q, ok := c.Resources.Limits[corev1.ResourceEphemeralStorage]; ok {
			into.Add(q)
			found = true
		}
	}
	for _, c := range pod.Spec.Containers {
		add(&sum, c)
	}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(&sum, c)
			continue
		}
		var one resource.Quantity
		add(&one, c)
		if one.Cmp(initMax) > 0 {
			initMax = one
		}
	}
	if initMax.Cmp(sum) > 0 {
		sum = initMax
	}
	return sum, found
}

func containerOverEphemeralLimit(pod *corev1.Pod, s statsapi.PodStats) string {
	limits := map[string]resource.Quantity{}
	for _, c := range append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if q, ok := c.Resources.Limits[corev1.ResourceEphemeralStorage]; ok {
			limits[c.Name] = q
		}
	}
	for _, c := range s.Containers {
		limit, ok := limits[c.Name]
		if ok && bytesQuantity(containerDiskUsage(c)).Cmp(limit) > 0 {
			return fmt.Sprintf(containerEphemeralStorageMessageFmt, c.Name, limit.String())
		}
	}
	return ""
}
