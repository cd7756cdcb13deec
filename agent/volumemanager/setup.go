package volumemanager

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/volumes"
)

// setUpVolume lays out a volume that lives in the pod's directory, or
// writes a files volume again, and applies the pod's fsGroup as kubelet
// does (emptyDir with the pod's change policy, the files volumes at
// every write, read-only).
func (m *Manager) setUpVolume(ctx context.Context, pod *corev1.Pod, v *desiredVolume) error {
	if err := m.mkdirPod(pod); err != nil {
		return err
	}
	podDir := m.podDir(pod.UID)
	info := setUpInfo{at: m.cfg.Clock.Now(), version: pod.ResourceVersion}
	var err error
	switch v.kind {
	case kindEmptyDir:
		info.path, err = m.emptyDir(pod, podDir, v)
		if err == nil && v.watchesUsage() {
			info.usage, err = m.checkUsage(pod, v, info.path)
		}
	case kindHostPath:
		info.path, err = m.cfg.Pods.HostPath(v.hostPath)
	case kindFiles:
		info.readOnly = true
		info.path, err = m.writeFiles(ctx, pod, podDir, v)
	default:
		err = fmt.Errorf("volume %s cannot be set up in the pod's directory", v)
	}
	if err != nil {
		return fmt.Errorf("MountVolume.SetUp failed for volume %q: %w", v.name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.pods[pod.UID]; ok { // not removed meanwhile
		m.setUp[podVolume{uid: pod.UID, name: v.name}] = info
	}
	return nil
}

// emptyDir makes the directory, or a tmpfs for medium Memory (its size
// the volume's sizeLimit, else the pod's memory limit, else the kernel's
// default: half the node's memory).
func (m *Manager) emptyDir(pod *corev1.Pod, podDir string, v *desiredVolume) (string, error) {
	var dir string
	var err error
	if v.src.EmptyDir.Medium == corev1.StorageMediumMemory {
		dir, err = m.cfg.Pods.EmptyDirMemory(podDir, v.name, memorySize(pod, v.src.EmptyDir))
	} else {
		dir, err = m.cfg.Pods.EmptyDir(podDir, v.name)
	}
	if err != nil {
		return "", err
	}
	if g := fsGroup(pod); g != nil {
		return dir, volumes.SetOwnership(dir, *g, ownershipPolicy(pod), false)
	}
	return dir, nil
}

// memorySize is a memory emptyDir's tmpfs size in bytes; 0: no size.
func memorySize(pod *corev1.Pod, src *corev1.EmptyDirVolumeSource) int64 {
	if src.SizeLimit != nil && src.SizeLimit.Value() > 0 {
		return src.SizeLimit.Value()
	}
	var sum int64
	for _, c := range pod.Spec.Containers {
		l, ok := c.Resources.Limits[corev1.ResourceMemory]
		if !ok {
			return 0
		}
		sum += l.Value()
	}
	return sum
}

// writeFiles writes a configMap, secret, downwardAPI or projected volume.
func (m *Manager) writeFiles(ctx context.Context, pod *corev1.Pod, podDir string, v *desiredVolume) (string, error) {
	files, err := m.cfg.Source.Files(ctx, pod, v.src)
	if err != nil {
		return "", err
	}
	dir, err := m.cfg.Pods.WriteFiles(podDir, v.filesKind, v.name, files)
	if err != nil {
		return "", err
	}
	if g := fsGroup(pod); g != nil {
		return dir, volumes.SetOwnership(dir, *g, volumes.OwnershipAlways, true)
	}
	return dir, nil
}

// checkUsage measures an emptyDir on disk and records a Warning event when
// its usage goes over its sizeLimit (the message is kubelet's eviction
// manager's; evicting the pod is for the eviction manager).
func (m *Manager) checkUsage(pod *corev1.Pod, v *desiredVolume, dir string) (int64, error) {
	usage, err := volumes.DiskUsage(dir)
	if err != nil {
		return 0, err
	}
	limit := v.src.EmptyDir.SizeLimit
	m.mu.Lock()
	before := m.setUp[podVolume{uid: pod.UID, name: v.name}].usage
	m.mu.Unlock()
	if over := usage > limit.Value(); over && before <= limit.Value() && m.cfg.Recorder != nil {
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "EmptyDirSizeLimitExceeded",
			"Usage of EmptyDir volume %q exceeds the limit %q.", v.name, limit.String())
	}
	return usage, nil
}
