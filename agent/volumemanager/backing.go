package volumemanager

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/volumes"
)

// BackingFiles is a plugin whose volumes may be files it makes on this
// node (local.nodeagent.io's file-backed volumes): the manager guards each
// file with the finalizer localvolume.BackingFinalizer on its
// PersistentVolume, and removes it when the control plane deletes the
// volume (reclaim.go).
type BackingFiles interface {
	// BackingFile says whether a volume with these attributes is backed
	// by a file its first stage makes, and whether the file exists.
	BackingFile(handle string, attrs map[string]string) (fileBacked, exists bool, err error)
	// HeldVolumes lists the volumes with a backing file (or a removal
	// under way) on the node.
	HeldVolumes() ([]volumes.HeldFile, error)
	// RemoveBackingFile removes a volume's data, leaving a marker that
	// FinishRemoval removes.
	RemoveBackingFile(ctx context.Context, handle string) error
	FinishRemoval(handle string) error
}

// guardBackingFile runs before the stage of a volume: a volume of the
// local driver must live on this node, and a file-backed one gets the
// backing-file finalizer before its first stage makes the file (the
// server refuses a new finalizer on a volume being deleted: then no file
// is made).
func (m *Manager) guardBackingFile(ctx context.Context, c *csiVolume, p volumes.NodePlugin) error {
	bf, ok := p.(BackingFiles)
	if !ok || !c.csiSource {
		return nil // not a CSI volume of a driver that makes files (spec.local, another driver)
	}
	fileBacked, exists, err := bf.BackingFile(c.key.handle, c.attrs)
	if err != nil || !fileBacked {
		return err
	}
	if c.key.handle != c.pvName {
		return fmt.Errorf("%w: PersistentVolume %s: the volumeHandle of a file-backed volume must be the volume's name, not %q",
			volumes.ErrInvalidArgument, c.pvName, c.key.handle)
	}
	pv, err := m.cfg.Control.Volume(ctx, c.pvName)
	if err != nil {
		return fmt.Errorf("get PersistentVolume %s: %w", c.pvName, err)
	}
	next, err := withBackingFinalizer(pv, m.cfg.NodeName, exists)
	if err != nil || next == nil {
		return err
	}
	if _, err := m.cfg.Control.UpdateVolume(ctx, next); err != nil {
		return fmt.Errorf("add finalizer %s to PersistentVolume %s: %w", localvolume.BackingFinalizer, c.pvName, err)
	}
	m.cfg.Log.Info("guarded a volume's backing file", "volume", c.pvName, "finalizer", localvolume.BackingFinalizer)
	return nil
}

// withBackingFinalizer is the volume with the backing-file finalizer
// added, nil when it has it; an error when no file may be made for it:
// it lives on another node, or it is being deleted and its file is gone
// (or was never made).
func withBackingFinalizer(pv *corev1.PersistentVolume, node string, fileExists bool) (*corev1.PersistentVolume, error) {
	if home, ok := localvolume.Node(pv); !ok || home != node {
		return nil, fmt.Errorf("%w: PersistentVolume %s does not live on node %q: its node affinity must be the one term %s In [%s]",
			volumes.ErrInvalidArgument, pv.Name, node, localvolume.HostnameLabel, node)
	}
	deleting := pv.DeletionTimestamp != nil
	switch {
	case hasBackingFinalizer(pv) && (fileExists || !deleting):
		return nil, nil
	case deleting:
		return nil, fmt.Errorf("PersistentVolume %s is being deleted: no backing file is made for it", pv.Name)
	}
	out := pv.DeepCopy()
	out.Finalizers = append(out.Finalizers, localvolume.BackingFinalizer)
	return out, nil
}

func hasBackingFinalizer(pv *corev1.PersistentVolume) bool {
	return slices.Contains(pv.Finalizers, localvolume.BackingFinalizer)
}

// withoutBackingFinalizer is the volume without the finalizer.
func withoutBackingFinalizer(pv *corev1.PersistentVolume) *corev1.PersistentVolume {
	out := pv.DeepCopy()
	out.Finalizers = slices.DeleteFunc(out.Finalizers, func(f string) bool { return f == localvolume.BackingFinalizer })
	return out
}
