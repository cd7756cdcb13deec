package statefulset

import (
	"regexp"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A StatefulSet's pods are "<set>-<ordinal>"; ordinals run from
// spec.ordinals.start (default 0) for spec.replicas (default 1).

// startOrdinal is spec.ordinals.start, or 0.
func startOrdinal(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals != nil {
		return int(set.Spec.Ordinals.Start)
	}
	return 0
}

func replicas(set *appsv1.StatefulSet) int {
	if set.Spec.Replicas == nil {
		return 1
	}
	return int(*set.Spec.Replicas)
}

func podName(set *appsv1.StatefulSet, ord int) string {
	return set.Name + "-" + strconv.Itoa(ord)
}

var ordinalSuffix = regexp.MustCompile(`^(.*)-([0-9]+)$`)

// parseName splits "<parent>-<ordinal>"; ok is false for other names.
func parseName(name string) (parent string, ord int, ok bool) {
	m := ordinalSuffix.FindStringSubmatch(name)
	if m == nil {
		return "", 0, false
	}
	ord, err := strconv.Atoi(m[2])
	return m[1], ord, err == nil
}

// claimName is kube's "<template>-<set>-<ordinal>".
func claimName(set *appsv1.StatefulSet, tmpl string, ord int) string {
	return tmpl + "-" + podName(set, ord)
}

// newPod is the set's pod of ordinal ord made from template at revision:
// the template's labels plus statefulset.kubernetes.io/pod-name,
// apps.kubernetes.io/pod-index and controller-revision-hash, the set as
// controller owner, hostname = pod name and subdomain = serviceName (so
// that <pod>.<service> resolves), and a volume per claim template using
// the ordinal's claim (replacing a template volume of that name).
func newPod(set *appsv1.StatefulSet, tmpl *corev1.PodTemplateSpec, ord int, revision string) *corev1.Pod {
	t := tmpl.DeepCopy()
	pod := &corev1.Pod{ObjectMeta: t.ObjectMeta, Spec: t.Spec}
	pod.Name, pod.GenerateName, pod.Namespace = podName(set, ord), "", set.Namespace
	pod.Labels = identityLabels(t.Labels, pod.Name, ord)
	pod.Labels[appsv1.ControllerRevisionHashLabelKey] = revision
	pod.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(set, appsv1.SchemeGroupVersion.WithKind("StatefulSet"))}
	pod.Spec.Hostname = pod.Name
	pod.Spec.Subdomain = set.Spec.ServiceName
	pod.Spec.Volumes = withClaimVolumes(set, pod.Spec.Volumes, ord)
	return pod
}

func identityLabels(in map[string]string, name string, ord int) map[string]string {
	out := make(map[string]string, len(in)+3)
	for k, v := range in {
		out[k] = v
	}
	out[appsv1.StatefulSetPodNameLabel] = name
	out[appsv1.PodIndexLabel] = strconv.Itoa(ord)
	return out
}

// identityMatches: the pod carries its identity labels.
func identityMatches(pod *corev1.Pod, ord int) bool {
	return pod.Labels[appsv1.StatefulSetPodNameLabel] == pod.Name && pod.Labels[appsv1.PodIndexLabel] == strconv.Itoa(ord)
}

func withClaimVolumes(set *appsv1.StatefulSet, vols []corev1.Volume, ord int) []corev1.Volume {
	claimed := map[string]bool{}
	var out []corev1.Volume
	for _, t := range set.Spec.VolumeClaimTemplates {
		claimed[t.Name] = true
		out = append(out, corev1.Volume{Name: t.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName(set, t.Name, ord)}}})
	}
	for _, v := range vols {
		if !claimed[v.Name] {
			out = append(out, v)
		}
	}
	return out
}

// newClaims are the ordinal's claims from the templates, labelled with
// the set's selector labels as kube does.
func newClaims(set *appsv1.StatefulSet, ord int) []*corev1.PersistentVolumeClaim {
	var out []*corev1.PersistentVolumeClaim
	for i := range set.Spec.VolumeClaimTemplates {
		c := set.Spec.VolumeClaimTemplates[i].DeepCopy()
		c.Name, c.Namespace = claimName(set, c.Name, ord), set.Namespace
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		if set.Spec.Selector != nil {
			for k, v := range set.Spec.Selector.MatchLabels {
				c.Labels[k] = v
			}
		}
		c.ResourceVersion, c.UID = "", ""
		c.Status = corev1.PersistentVolumeClaimStatus{}
		out = append(out, c)
	}
	return out
}
