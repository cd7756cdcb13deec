package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/agent/volumemanager"
	"github.com/nodeagent/nodeagent/api/expansion"
	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/volumes"
)

// volumeMounts returns the container's bind mounts and devices from the
// pod's volumes, which the volume manager has made ready (WaitForMount):
// configMap, secret, downwardAPI and projected volumes read-only whatever
// the volumeMount says, as kubelet does; a subPath (or a subPathExpr,
// expanded with the container's env) bound by volumes onto a pod-owned
// target that the runtime gets; a block volume's device node for each
// volumeDevice.
func (a *Agent) volumeMounts(pod *corev1.Pod, spec corev1.Container, env []string) ([]cri.Mount, []cri.Device, error) {
	ready, err := a.volumeManager.Mounts(pod.UID)
	if err != nil {
		return nil, nil, err
	}
	var out []cri.Mount
	for i, m := range spec.VolumeMounts {
		v, ok := ready[m.Name]
		switch {
		case !ok:
			return nil, nil, fmt.Errorf("volume %q not found in the pod", m.Name)
		case v.Block:
			return nil, nil, fmt.Errorf("volume %q has volumeMode Block, but is specified in volumeMounts", m.Name)
		}
		host := v.Path
		if sub, err := subPath(m, env); err != nil {
			return nil, nil, err
		} else if sub != "" {
			m.SubPath = sub
			if host, err = a.mountSubPath(pod, spec, i, m, host); err != nil {
				return nil, nil, err
			}
		}
		out = append(out, cri.Mount{HostPath: host, ContainerPath: m.MountPath, ReadOnly: m.ReadOnly || v.ReadOnly})
	}
	devs, err := volumeDevices(spec, ready)
	return out, devs, err
}

// volumeDevices gives each volumeDevice its block volume's device node,
// read-only for a read-only claim.
func volumeDevices(spec corev1.Container, ready map[string]volumemanager.Mounted) ([]cri.Device, error) {
	var out []cri.Device
	for _, d := range spec.VolumeDevices {
		v, ok := ready[d.Name]
		switch {
		case !ok:
			return nil, fmt.Errorf("volume %q not found in the pod", d.Name)
		case !v.Block:
			return nil, fmt.Errorf("volume %q has volumeMode Filesystem, but is specified in volumeDevices", d.Name)
		}
		perms := "rw"
		if v.ReadOnly {
			perms = "r"
		}
		out = append(out, cri.Device{HostPath: v.Path, ContainerPath: d.DevicePath, Permissions: perms})
	}
	return out, nil
}

// subPath is the volumeMount's subPath, or its subPathExpr expanded with
// the container's env (KEY=value), as kubelet expands it; "" for none.
func subPath(m corev1.VolumeMount, env []string) (string, error) {
	if m.SubPathExpr == "" {
		return m.SubPath, nil
	}
	vars := map[string]string{}
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok {
			vars[k] = v
		}
	}
	sub := expansion.Expand(m.SubPathExpr, vars)
	if sub == "" {
		return "", fmt.Errorf("subPathExpr %q of volumeMount %q expands to an empty path", m.SubPathExpr, m.Name)
	}
	return sub, nil
}

// mountSubPath binds the volumeMount's subPath; an error says which
// mount of which container, as kubelet's does, and why without host paths.
func (a *Agent) mountSubPath(pod *corev1.Pod, spec corev1.Container, i int, m corev1.VolumeMount, volPath string) (string, error) {
	target, err := a.volumes.MountSubPath(volumes.SubPath{PodDir: a.podDir(string(pod.UID)), Volume: m.Name, VolPath: volPath,
		Container: spec.Name, Index: i, Path: m.SubPath})
	if err == nil {
		return target, nil
	}
	a.log.Warn("refusing a subPath", "pod", podKey(pod), "container", spec.Name, "volumeMount", m.Name, "subPath", m.SubPath, "err", err)
	why := "it cannot be opened inside the volume"
	switch {
	case errors.Is(err, volumes.ErrEscapes):
		why = "it leads outside the volume"
	case errors.Is(err, volumes.ErrSymlink):
		why = "a symlink is in the way of creating it"
	case errors.Is(err, volumes.ErrInvalidPath):
		why = err.Error()
	}
	return "", fmt.Errorf("failed to prepare subPath %q for volumeMount %q of container %q: %s", m.SubPath, m.Name, spec.Name, why)
}

// Modes when a pod's defaultMode is nil. The API defaults defaultMode to
// 0644 for both (kube's SecretVolumeSourceDefaultMode), so pods through
// the API get 0644 as in Kubernetes; only an object that skipped
// defaulting gets these, and a secret then stays private to its owner.
const (
	configMapFallbackMode = 0o644
	secretFallbackMode    = 0o600
)

func (a *Agent) configMapFiles(ctx context.Context, ns string, src *corev1.ConfigMapVolumeSource) (map[string]volumes.File, error) {
	cm, err := a.client.CoreV1().ConfigMaps(ns).Get(ctx, src.Name, metav1.GetOptions{})
	optional := src.Optional != nil && *src.Optional
	if apierrors.IsNotFound(err) && optional {
		return map[string]volumes.File{}, nil // an empty volume, as kubelet's
	}
	if err != nil {
		return nil, err
	}
	p := projection{data: stringData(cm.Data, cm.BinaryData), items: src.Items, optional: optional,
		mode: modeOr(src.DefaultMode, configMapFallbackMode), missing: "configmap references non-existent config key"}
	return p.files()
}

func (a *Agent) secretFiles(ctx context.Context, ns string, src *corev1.SecretVolumeSource) (map[string]volumes.File, error) {
	s, err := a.client.CoreV1().Secrets(ns).Get(ctx, src.SecretName, metav1.GetOptions{})
	optional := src.Optional != nil && *src.Optional
	if apierrors.IsNotFound(err) && optional {
		return map[string]volumes.File{}, nil
	}
	if err != nil {
		return nil, err
	}
	p := projection{data: s.Data, items: src.Items, optional: optional,
		mode: modeOr(src.DefaultMode, secretFallbackMode), missing: "references non-existent secret key"}
	return p.files()
}

func modeOr(m *int32, fallback os.FileMode) os.FileMode {
	if m == nil {
		return fallback
	}
	return os.FileMode(*m) & os.ModePerm
}

// projection turns a ConfigMap's or Secret's data into the volume's files
// as kubelet does: every key, or the items (their own mode, else the
// default); an item's missing key fails unless the volume is optional.
type projection struct {
	data     map[string][]byte
	items    []corev1.KeyToPath
	optional bool
	mode     os.FileMode
	missing  string // kubelet's message for a missing key
}

func (p projection) files() (map[string]volumes.File, error) {
	out := map[string]volumes.File{}
	if len(p.items) == 0 {
		for k, v := range p.data {
			out[k] = volumes.File{Data: v, Mode: p.mode}
		}
		return out, nil
	}
	for _, it := range p.items {
		v, ok := p.data[it.Key]
		if !ok {
			if p.optional {
				continue
			}
			return nil, fmt.Errorf("%s: %s", p.missing, it.Key)
		}
		out[it.Path] = volumes.File{Data: v, Mode: modeOr(it.Mode, p.mode)}
	}
	return out, nil
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

// newVolumes lays out the pods' directories on the kernel's mounts;
// hostPath volumes may not reach into the agent's root directory or the
// other protected paths.
func newVolumes(cfg Config, m volumes.Mounter, log *slog.Logger) *volumes.Manager {
	protected := append([]string{cfg.RootDir}, cfg.ProtectedPaths...)
	return volumes.NewManager(m, protected, log.With("component", "volumes"))
}

// podsDir holds the pod directories.
func (a *Agent) podsDir() string { return filepath.Join(a.cfg.RootDir, "pods") }
