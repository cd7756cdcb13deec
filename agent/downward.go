package agent

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/volumes"
)

// downwardAPIFiles projects a downwardAPI volume's items as kubelet does:
// each item's field of the pod (whole label and annotation maps as sorted
// key="value" lines) or a container's resource, with the item's mode or
// the default.
func (a *Agent) downwardAPIFiles(pod *corev1.Pod, src *corev1.DownwardAPIVolumeSource) (map[string]volumes.File, error) {
	mode := modeOr(src.DefaultMode, configMapFallbackMode)
	out := map[string]volumes.File{}
	for _, it := range src.Items {
		v, err := a.downwardValue(pod, it)
		if err != nil {
			return nil, fmt.Errorf("downwardAPI item %q: %w", it.Path, err)
		}
		out[it.Path] = volumes.File{Data: []byte(v), Mode: modeOr(it.Mode, mode)}
	}
	return out, nil
}

func (a *Agent) downwardValue(pod *corev1.Pod, it corev1.DownwardAPIVolumeFile) (string, error) {
	switch {
	case it.FieldRef != nil && it.FieldRef.FieldPath == "metadata.labels":
		return formatMap(pod.Labels), nil
	case it.FieldRef != nil && it.FieldRef.FieldPath == "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case it.FieldRef != nil:
		return fieldValue(pod, it.FieldRef.FieldPath, a.nodeIP)
	case it.ResourceFieldRef != nil:
		for _, c := range pod.Spec.Containers {
			if c.Name == it.ResourceFieldRef.ContainerName {
				return resourceValue(c, it.ResourceFieldRef)
			}
		}
		return "", fmt.Errorf("no container %q in the pod", it.ResourceFieldRef.ContainerName)
	}
	return "", fmt.Errorf("neither fieldRef nor resourceFieldRef")
}

// formatMap writes a map as kubelet's downward API does: key="value"
// lines (Go-quoted values), sorted by key, no final newline.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s=%q", k, m[k])
	}
	return b.String()
}
