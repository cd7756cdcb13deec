package daemonset

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// templateGenerationLabel is the deprecated label kube still sets on
// daemon pods: the DaemonSet's generation the pod was made from.
const templateGenerationLabel = "pod-template-generation"

// newPod is the daemon pod for node: the template with the revision's
// hash label, the DaemonSet as controller owner, the daemon tolerations,
// and a required node affinity on metadata.name=node (replacing any
// metadata.name field terms) so that the scheduler places it there.
func newPod(ds *appsv1.DaemonSet, node, hash string) *corev1.Pod {
	t := ds.Spec.Template.DeepCopy()
	pod := &corev1.Pod{ObjectMeta: t.ObjectMeta, Spec: t.Spec}
	pod.Namespace = ds.Namespace
	pod.Name = ""
	pod.GenerateName = ds.Name + "-"
	pod.Labels = copyLabels(t.Labels)
	pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
	pod.Labels[templateGenerationLabel] = strconv.FormatInt(ds.Generation, 10)
	pod.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(ds, appsv1.SchemeGroupVersion.WithKind("DaemonSet"))}
	pod.Spec.Tolerations = withDaemonTolerations(pod.Spec.Tolerations, pod.Spec.HostNetwork)
	pod.Spec.Affinity = withNodeName(pod.Spec.Affinity, node)
	return pod
}

func copyLabels(in map[string]string) map[string]string {
	out := make(map[string]string, len(in)+2)
	for k, v := range in {
		out[k] = v
	}
	return out
}

// withNodeName is kube's ReplaceDaemonSetPodNodeNameNodeAffinity: the
// required node affinity becomes the one term metadata.name In [node]
// (the node matched the template's terms already); the preferred terms
// and pod (anti-)affinity stay.
func withNodeName(aff *corev1.Affinity, node string) *corev1.Affinity {
	if aff == nil {
		aff = &corev1.Affinity{}
	}
	if aff.NodeAffinity == nil {
		aff.NodeAffinity = &corev1.NodeAffinity{}
	}
	aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{
			{Key: nodeNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}}}}}
	return aff
}

// targetNode is the node a daemon pod is for: its spec.nodeName once
// bound, else the metadata.name its required node affinity names.
func targetNode(pod *corev1.Pod) (string, error) {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName, nil
	}
	aff := pod.Spec.Affinity
	if aff != nil && aff.NodeAffinity != nil && aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, f := range term.MatchFields {
				if f.Key == nodeNameField && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
					return f.Values[0], nil
				}
			}
		}
	}
	return "", fmt.Errorf("pod %s/%s has no node name and no metadata.name node affinity", pod.Namespace, pod.Name)
}

func podReady(pod *corev1.Pod) bool {
	return readySince(pod) != nil
}

// readySince is when the pod's Ready condition last became True, or nil.
func readySince(pod *corev1.Pod) *metav1.Time {
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return &c.LastTransitionTime
		}
	}
	return nil
}

// available: ready for at least minReadySeconds at now.
func available(pod *corev1.Pod, minReady int32, now time.Time) bool {
	since := readySince(pod)
	if since == nil {
		return false
	}
	return minReady == 0 || !since.Add(time.Duration(minReady)*time.Second).After(now)
}

// availableIn is how long until a ready pod becomes available (0 when it
// is, or is not ready).
func availableIn(pod *corev1.Pod, minReady int32, now time.Time) time.Duration {
	since := readySince(pod)
	if since == nil || minReady == 0 {
		return 0
	}
	return max(0, since.Add(time.Duration(minReady)*time.Second).Sub(now))
}

func updated(pod *corev1.Pod, hash string) bool {
	return pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash
}

// oldestFirst sorts pods by creation time (running before pending, ready
// before not, for equal times), as kube's podByCreationTimestampAndPhase.
func oldestFirst(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		if (a.Status.Phase == corev1.PodRunning) != (b.Status.Phase == corev1.PodRunning) {
			return a.Status.Phase == corev1.PodRunning
		}
		if podReady(a) != podReady(b) {
			return podReady(a)
		}
		return a.Name < b.Name
	})
}
