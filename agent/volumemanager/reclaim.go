package volumemanager

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/volumes"
)

// Reclaim: the node's half of reclaim Delete (volumes/doc.go, "Control
// plane"). The control plane deletes a volume whose claim went; the
// backing-file finalizer holds it (Terminating) until its node has dealt
// with the file. The manager looks at the volume of every backing file
// it holds (a GET by name: the handle of a file-backed volume is its
// volume's name) right after the volume is unstaged, then again after 1,
// 2, 4 ... seconds, and every ReclaimPeriod at most.

// reclaimEntry is when a held volume is looked at next.
type reclaimEntry struct {
	next  time.Time
	delay time.Duration
}

const firstReclaimDelay = time.Second

// reclaimPlan is what to do with one held file, in this order.
type reclaimPlan struct {
	removeFile      bool // its data: reclaim policy Delete
	removeFinalizer bool // the control plane may delete the volume now
	finish          bool // remove the removal marker
}

// decideReclaim: a volume being deleted, that has the finalizer, lives on
// this node and is this file's, and that no pod uses any more: its file
// is removed if the reclaim policy is Delete (with Retain, or anything
// else, it stays, as kube keeps the asset), then the finalizer. A volume
// that is gone (pv nil), not this node's, not being deleted or without the
// finalizer leaves the file alone; a removal marker is then all that is
// left of one finished before, and goes.
func decideReclaim(f volumes.HeldFile, pv *corev1.PersistentVolume, driver, node string, inUse bool) reclaimPlan {
	ours := pv != nil && pv.DeletionTimestamp != nil && hasBackingFinalizer(pv) && isVolumeOf(pv, driver, f.Handle, node)
	switch {
	case f.Removing && ours:
		return reclaimPlan{removeFile: true, removeFinalizer: true, finish: true}
	case f.Removing:
		return reclaimPlan{finish: true}
	case !ours || inUse:
		return reclaimPlan{}
	case pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete:
		return reclaimPlan{removeFile: true, removeFinalizer: true, finish: true}
	}
	return reclaimPlan{removeFinalizer: true}
}

// isVolumeOf: the volume is the driver's volume of this handle and lives
// on node.
func isVolumeOf(pv *corev1.PersistentVolume, driver, handle, node string) bool {
	home, ok := localvolume.Node(pv)
	return ok && home == node && pv.Spec.CSI.Driver == driver && pv.Spec.CSI.VolumeHandle == handle
}

// reclaim looks at the held files that are due, once every pod that runs
// here is known (until then one not added yet may use a volume).
func (m *Manager) reclaim(ctx context.Context, a actualState) {
	m.mu.Lock()
	ready := m.sourcesReady
	m.mu.Unlock()
	if !ready || m.cfg.Control == nil {
		return
	}
	inUse := m.inUse(a)
	seen := map[stagingKey]bool{}
	defer m.forgetReclaims(seen)
	for _, driver := range sortedDrivers(m.cfg.Plugins) {
		bf, ok := m.cfg.Plugins[driver].(BackingFiles)
		if !ok {
			continue
		}
		held, err := bf.HeldVolumes()
		if err != nil {
			m.cfg.Log.Warn("listing the volumes' backing files", "driver", driver, "err", err)
			continue
		}
		for _, f := range held {
			k := stagingKey{driver: driver, handle: f.Handle}
			seen[k] = true
			if !m.reclaimDue(k) {
				continue
			}
			err := m.reclaimOne(ctx, bf, k, f, inUse[k])
			if err != nil {
				m.cfg.Log.Warn("reclaiming a volume's backing file", "volume", f.Handle, "err", err)
			}
			m.reclaimLater(k)
		}
	}
}

// reclaimOne gets the file's volume and carries out the plan.
func (m *Manager) reclaimOne(ctx context.Context, bf BackingFiles, k stagingKey, f volumes.HeldFile, inUse bool) error {
	pv, err := m.cfg.Control.Volume(ctx, k.handle)
	if apierrors.IsNotFound(err) {
		pv, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("get PersistentVolume %s: %w", k.handle, err)
	}
	p := decideReclaim(f, pv, k.driver, m.cfg.NodeName, inUse)
	if p.removeFile {
		if err := bf.RemoveBackingFile(ctx, k.handle); err != nil {
			return err
		}
	}
	if p.removeFinalizer {
		if _, err := m.cfg.Control.UpdateVolume(ctx, withoutBackingFinalizer(pv)); err != nil {
			return fmt.Errorf("remove finalizer %s from PersistentVolume %s: %w", localvolume.BackingFinalizer, pv.Name, err)
		}
		m.cfg.Log.Info("reclaimed a volume", "volume", pv.Name, "policy", pv.Spec.PersistentVolumeReclaimPolicy, "fileRemoved", p.removeFile)
	}
	if p.finish {
		return bf.FinishRemoval(k.handle)
	}
	return nil
}

// inUse are the volumes a pod wants, or that are staged or published.
func (m *Manager) inUse(a actualState) map[stagingKey]bool {
	out := map[stagingKey]bool{}
	for k := range a.staged {
		out[k] = true
	}
	for _, r := range a.published {
		out[r.stagedKey()] = true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.pods {
		for _, v := range e.volumes {
			if v.kind == kindCSI {
				out[v.csi.key] = true
			}
		}
	}
	return out
}

// reclaimDue: never looked at, or its time has come.
func (m *Manager) reclaimDue(k stagingKey) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.reclaims[k]
	return !ok || !m.cfg.Clock.Now().Before(e.next)
}

// reclaimLater schedules the next look: twice the last delay, from 1 s
// up to ReclaimPeriod.
func (m *Manager) reclaimLater(k stagingKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.reclaims[k]
	e.delay = min(max(2*e.delay, firstReclaimDelay), m.cfg.ReclaimPeriod)
	e.next = m.cfg.Clock.Now().Add(e.delay)
	m.reclaims[k] = e
}

// forgetReclaims drops the schedule of the files no longer held.
func (m *Manager) forgetReclaims(held map[stagingKey]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.reclaims {
		if !held[k] {
			delete(m.reclaims, k)
		}
	}
}

// reclaimSoon: the volume was unstaged; look at it at the next pass.
func (m *Manager) reclaimSoon(k stagingKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.reclaims, k)
}

func sortedDrivers(plugins map[string]volumes.NodePlugin) []string {
	out := make([]string, 0, len(plugins))
	for d := range plugins {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}
