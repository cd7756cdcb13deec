package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/cri"
)

// volumeMounts prepares the pod's volumes that the container mounts and
// returns the bind mounts: emptyDir (a directory in the pod directory),
// hostPath, and configMap and secret (their keys written as files).
// Block devices, claims and projected volumes belong to volumes/.
func (a *Agent) volumeMounts(ctx context.Context, pod *corev1.Pod, spec corev1.Container) ([]cri.Mount, error) {
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v
	}
	var out []cri.Mount
	for _, m := range spec.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			return nil, fmt.Errorf("volume %q not found in the pod", m.Name)
		}
		host, err := a.prepareVolume(ctx, pod, v)
		if err != nil {
			return nil, fmt.Errorf("volume %q: %w", m.Name, err)
		}
		if m.SubPath != "" {
			host = filepath.Join(host, m.SubPath)
		}
		out = append(out, cri.Mount{HostPath: host, ContainerPath: m.MountPath, ReadOnly: m.ReadOnly})
	}
	return out, nil
}

func (a *Agent) prepareVolume(ctx context.Context, pod *corev1.Pod, v corev1.Volume) (string, error) {
	dir := filepath.Join(a.podDir(string(pod.UID)), "volumes", v.Name)
	switch {
	case v.EmptyDir != nil:
		return dir, os.MkdirAll(dir, 0o777)
	case v.HostPath != nil:
		return v.HostPath.Path, prepareHostPath(v.HostPath)
	case v.ConfigMap != nil:
		cm, err := a.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
		if err != nil {
			return "", optional(v.ConfigMap.Optional, err)
		}
		return dir, writeKeys(dir, stringData(cm.Data, cm.BinaryData), v.ConfigMap.Items, v.ConfigMap.DefaultMode)
	case v.Secret != nil:
		s, err := a.client.CoreV1().Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
		if err != nil {
			return "", optional(v.Secret.Optional, err)
		}
		return dir, writeKeys(dir, s.Data, v.Secret.Items, v.Secret.DefaultMode)
	}
	return "", fmt.Errorf("this volume type is not supported yet")
}

func prepareHostPath(h *corev1.HostPathVolumeSource) error {
	if h.Type != nil && *h.Type == corev1.HostPathDirectoryOrCreate {
		return os.MkdirAll(h.Path, 0o755)
	}
	if h.Type != nil && *h.Type == corev1.HostPathDirectory {
		if st, err := os.Stat(h.Path); err != nil || !st.IsDir() {
			return fmt.Errorf("hostPath %s is not a directory", h.Path)
		}
	}
	return nil
}

func stringData(data map[string]string, bin map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range data {
		out[k] = []byte(v)
	}
	for k, v := range bin {
		out[k] = v
	}
	return out
}

// writeKeys writes each key (or the selected items) as a file in dir.
func writeKeys(dir string, data map[string][]byte, items []corev1.KeyToPath, mode *int32) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	perm := os.FileMode(0o644)
	if mode != nil {
		perm = os.FileMode(*mode)
	}
	files := map[string][]byte{}
	if len(items) == 0 {
		for k, v := range data {
			files[k] = v
		}
	}
	for _, it := range items {
		files[it.Path] = data[it.Key]
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, body, perm); err != nil {
			return err
		}
	}
	return nil
}
