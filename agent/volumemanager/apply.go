package volumemanager

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/volumes"
)

// apply carries out a plan. Each operation runs with its own back-off;
// a failure is recorded against the pod's volume (or, for an unpublish,
// the published volume) and the others go on.
func (m *Manager) apply(ctx context.Context, p plan, a actualState, in planInput) {
	for _, k := range p.unpublish {
		_, err := m.try(opKey{op: "unpublish", uid: k.uid, name: k.pvName}, func() error { return m.unpublish(ctx, k, a.published[k]) })
		m.mu.Lock()
		if err != nil {
			m.unpublishErrs[k] = err
			m.cfg.Log.Warn("unpublishing a volume", "pod", k.uid, "volume", k.pvName, "err", err)
		} else {
			delete(m.unpublishErrs, k)
		}
		m.mu.Unlock()
	}
	for _, k := range p.unstage {
		ran, err := m.try(opKey{op: "unstage", name: k.driver + "/" + k.handle}, func() error { return m.unstage(ctx, k, a.staged[k]) })
		switch {
		case err != nil:
			m.cfg.Log.Warn("unstaging a volume", "driver", k.driver, "volume", k.handle, "err", err)
		case ran:
			m.reclaimSoon(k)
		}
	}
	pods, vols := index(in.desired)
	staged := map[stagingKey]bool{}
	for _, k := range p.stage {
		v := firstUser(in.desired, k)
		ran, err := m.try(opKey{op: "stage", name: k.driver + "/" + k.handle}, func() error { return m.stage(ctx, k, a.staged[k], v) })
		staged[k] = ran && err == nil
		if err != nil {
			m.setStageErr(in.desired, k, err)
		}
	}
	m.setWaiting(p.stage)
	for _, pv := range p.publish {
		v := vols[pv]
		if !staged[v.csi.key] {
			continue
		}
		ran, err := m.try(opKey{op: "publish", uid: pv.uid, name: pv.name}, func() error { return m.publish(ctx, pods[pv.uid], v) })
		if ran {
			m.setErr(pv.uid, pv.name, err)
		}
	}
	for _, pv := range p.setUp {
		ran, err := m.try(opKey{op: "setup", uid: pv.uid, name: pv.name}, func() error { return m.setUpVolume(ctx, pods[pv.uid], vols[pv]) })
		if ran {
			m.setErr(pv.uid, pv.name, err)
		}
	}
}

// index maps the desired pods and volumes by uid and by pod volume.
func index(desired []desiredPod) (map[types.UID]*corev1.Pod, map[podVolume]*desiredVolume) {
	pods := map[types.UID]*corev1.Pod{}
	vols := map[podVolume]*desiredVolume{}
	for _, p := range desired {
		pods[p.uid] = p.pod
		for n, v := range p.volumes {
			vols[podVolume{uid: p.uid, name: n}] = v
		}
	}
	return pods, vols
}

// firstUser is a desired volume staged as k (any: they agree on the
// stage request, which comes from the PersistentVolume).
func firstUser(desired []desiredPod, k stagingKey) *desiredVolume {
	for _, p := range desired {
		for _, n := range sortedNames(p.volumes) {
			if v := p.volumes[n]; v.kind == kindCSI && v.csi.key == k {
				return v
			}
		}
	}
	return nil
}

// setStageErr records a stage failure against every pod volume staged as k.
func (m *Manager) setStageErr(desired []desiredPod, k stagingKey, err error) {
	for _, p := range desired {
		for n, v := range p.volumes {
			if v.kind == kindCSI && v.csi.key == k {
				m.setErr(p.uid, n, err)
			}
		}
	}
}

func (m *Manager) plugin(driver string) (volumes.NodePlugin, error) {
	p, ok := m.cfg.Plugins[driver]
	if !ok {
		return nil, fmt.Errorf("driver name %s not found in the list of registered CSI drivers", driver)
	}
	return p, nil
}

// stage waits for the volume's attachment, guards its backing file,
// records the staged volume, then has its plugin stage it.
func (m *Manager) stage(ctx context.Context, k stagingKey, rec stagedRecord, v *desiredVolume) error {
	p, err := m.plugin(k.driver)
	if err != nil {
		return err
	}
	if err := m.beforeStage(ctx, v.csi, p); err != nil {
		return err
	}
	want := stagedRecord{Driver: k.driver, VolumeHandle: k.handle, PVName: v.csi.pvName, Block: v.csi.capability.Block, Staged: rec.Staged}
	if want != rec {
		if err := os.MkdirAll(k.dir(m.cfg.RootDir), 0o750); err != nil {
			return err
		}
		if err := writeJSON(k.dir(m.cfg.RootDir)+"/"+recordName, want); err != nil {
			return err
		}
	}
	staging := k.stagingPath(m.cfg.RootDir)
	if err := os.MkdirAll(staging, 0o750); err != nil {
		return err
	}
	err = p.NodeStageVolume(ctx, &volumes.NodeStageVolumeRequest{VolumeID: k.handle, StagingTargetPath: staging,
		VolumeCapability: v.csi.capability, VolumeContext: v.csi.attrs})
	if err != nil {
		return fmt.Errorf("MountVolume.MountDevice failed for volume %q: %w", v.csi.pvName, err)
	}
	if !want.Staged {
		want.Staged = true
		return writeJSON(k.dir(m.cfg.RootDir)+"/"+recordName, want)
	}
	return nil
}

// beforeStage is the control plane's part of a stage (volumes/doc.go,
// "Control plane"): a local volume lives on this node, the volume is
// attached here, and a backing file is guarded by its finalizer.
func (m *Manager) beforeStage(ctx context.Context, c *csiVolume, p volumes.NodePlugin) error {
	if !c.csiSource {
		return nil
	}
	if m.cfg.Control == nil {
		return fmt.Errorf("volume %q: no API client to attach it with", c.pvName)
	}
	if c.key.driver == localvolume.Driver && c.home != m.cfg.NodeName {
		return fmt.Errorf("%w: volume %q of %s lives on node %q, not on this node %q (its node affinity must be the one term %s In [%s])",
			volumes.ErrInvalidArgument, c.pvName, localvolume.Driver, c.home, m.cfg.NodeName, localvolume.HostnameLabel, m.cfg.NodeName)
	}
	if err := m.waitAttached(ctx, c); err != nil {
		return err
	}
	return m.guardBackingFile(ctx, c, p)
}

// setWaiting notes whether a volume to stage waits for its attachment
// (Run then passes again soon).
func (m *Manager) setWaiting(stage []stagingKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.waitingAttach = false
	for _, k := range stage {
		if m.backoff[opKey{op: "stage", name: k.driver + "/" + k.handle}].waiting {
			m.waitingAttach = true
		}
	}
}

func (m *Manager) waiting() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.waitingAttach
}

// unstage has the plugin unstage the volume, then removes its directory
// (the record with it).
func (m *Manager) unstage(ctx context.Context, k stagingKey, rec stagedRecord) error {
	p, err := m.plugin(k.driver)
	if err != nil {
		return err
	}
	err = p.NodeUnstageVolume(ctx, &volumes.NodeUnstageVolumeRequest{VolumeID: rec.VolumeHandle, StagingTargetPath: k.stagingPath(m.cfg.RootDir)})
	if err != nil {
		return fmt.Errorf("UnmountDevice failed for volume %q: %w", rec.PVName, err)
	}
	m.cfg.Log.Info("unstaged a volume", "driver", k.driver, "volume", rec.PVName)
	return volumes.RemoveUnmounted(k.dir(m.cfg.RootDir))
}

// publish records the published volume in the pod's directory, has the
// plugin publish it there, and applies the pod's fsGroup.
func (m *Manager) publish(ctx context.Context, pod *corev1.Pod, v *desiredVolume) error {
	if err := volumes.ValidName(v.csi.pvName); err != nil {
		return err
	}
	p, err := m.plugin(v.csi.key.driver)
	if err != nil {
		return err
	}
	k := publishKey{uid: pod.UID, pvName: v.csi.pvName}
	if err := m.mkdirPod(pod); err != nil {
		return err
	}
	if err := os.MkdirAll(k.dir(m.podsDir()), 0o750); err != nil {
		return err
	}
	block := v.csi.capability.Block
	rec := publishedRecord{Driver: v.csi.key.driver, VolumeHandle: v.csi.key.handle, PVName: v.csi.pvName, Block: block, PodUID: string(pod.UID)}
	if err := writeJSON(k.dir(m.podsDir())+"/"+recordName, rec); err != nil {
		return err
	}
	target := k.target(m.podsDir(), block)
	err = p.NodePublishVolume(ctx, &volumes.NodePublishVolumeRequest{VolumeID: v.csi.key.handle,
		StagingTargetPath: v.csi.key.stagingPath(m.cfg.RootDir), TargetPath: target, VolumeCapability: v.csi.capability,
		Readonly: v.csi.readOnly, VolumeContext: v.csi.attrs})
	if err != nil {
		return fmt.Errorf("MountVolume.SetUp failed for volume %q: %w", v.csi.pvName, err)
	}
	if v.csi.ownership {
		return volumes.SetOwnership(target, *fsGroup(pod), ownershipPolicy(pod), false)
	}
	return nil
}

// unpublish has the plugin unpublish the volume, then removes the
// volume's directory in the pod's (the record with it).
func (m *Manager) unpublish(ctx context.Context, k publishKey, rec publishedRecord) error {
	p, err := m.plugin(rec.Driver)
	if err != nil {
		return err
	}
	err = p.NodeUnpublishVolume(ctx, &volumes.NodeUnpublishVolumeRequest{VolumeID: rec.VolumeHandle, TargetPath: k.target(m.podsDir(), rec.Block)})
	if err != nil {
		return fmt.Errorf("UnmountVolume.TearDown failed for volume %q: %w", k.pvName, err)
	}
	return volumes.RemoveUnmounted(k.dir(m.podsDir()))
}

// mkdirPod makes the pod's directory, as the sandbox would.
func (m *Manager) mkdirPod(pod *corev1.Pod) error {
	if err := volumes.ValidName(string(pod.UID)); err != nil {
		return fmt.Errorf("pod directory: %w", err)
	}
	return os.MkdirAll(m.podDir(pod.UID), 0o750)
}

func ownershipPolicy(pod *corev1.Pod) volumes.OwnershipPolicy {
	if sc := pod.Spec.SecurityContext; sc != nil && sc.FSGroupChangePolicy != nil &&
		*sc.FSGroupChangePolicy == corev1.FSGroupChangeOnRootMismatch {
		return volumes.OwnershipOnRootMismatch
	}
	return volumes.OwnershipAlways
}
