package agent

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/stats"
	"github.com/nodeagent/nodeagent/volumes"
)

// localVolumeStats measures the pods' emptyDir volumes on the node's disk
// (not the memory-backed ones, which are tmpfs) for the stats summary:
// what the eviction manager holds against sizeLimit and ephemeral-storage
// limits. The walk follows no symlink and stays on the volume's mount.
type localVolumeStats struct{ a *Agent }

var _ stats.Volumes = localVolumeStats{}

// PodVolumes implements stats.Volumes.
func (v localVolumeStats) PodVolumes(uid string) []stats.VolumeUsage {
	pod, ok := v.a.podByUID(uid)
	if !ok || validUID(uid) != nil {
		return nil
	}
	var out []stats.VolumeUsage
	for _, vol := range pod.Spec.Volumes {
		if vol.EmptyDir == nil || vol.EmptyDir.Medium == corev1.StorageMediumMemory {
			continue
		}
		bytes, inodes, err := volumes.DiskUsageAndInodes(volumes.Dir(v.a.podDir(uid), volumes.KindEmptyDir, vol.Name))
		if err != nil {
			continue // not set up yet, or gone
		}
		out = append(out, stats.VolumeUsage{Name: vol.Name, UsedBytes: uint64(bytes), Inodes: uint64(inodes)})
	}
	return out
}

// podByUID is the static or API pod with this uid.
func (a *Agent) podByUID(uid string) (*corev1.Pod, bool) {
	if key, ok := a.staticKeyByUID(uid); ok {
		if p := a.staticPod(key.cacheKey()); p != nil {
			return p, true
		}
	}
	objs, _ := a.pods.GetIndexer().ByIndex(uidIndex, uid)
	for _, o := range objs {
		if p := o.(*corev1.Pod); !isMirror(p) {
			return p, true
		}
	}
	return nil, false
}
