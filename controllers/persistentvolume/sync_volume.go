package persistentvolume

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// syncVolume decides about one volume, then writes.
func (c *Controller) syncVolume(ctx context.Context, name string) error {
	pv, err := c.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pv.DeletionTimestamp != nil {
		// A write brings the object back through the informer.
		if wrote, err := c.releaseVolumeProtection(ctx, pv); wrote || err != nil {
			return err
		}
	}
	claim, err := c.claimOf(ctx, pv)
	if err != nil {
		return err
	}
	return c.applyVolume(ctx, pv, claim, decideVolume(pv, claim))
}

// claimOf is the claim the volume's claimRef names, nil when none. A
// claim the cache does not have is asked of the server before the volume
// counts as released: the cache may not have seen a new claim yet.
func (c *Controller) claimOf(ctx context.Context, pv *corev1.PersistentVolume) (*corev1.PersistentVolumeClaim, error) {
	ref := pv.Spec.ClaimRef
	if ref == nil {
		return nil, nil
	}
	claim, err := c.claims.PersistentVolumeClaims(ref.Namespace).Get(ref.Name)
	if err == nil && (ref.UID == "" || claim.UID == ref.UID) {
		return claim, nil
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	if ref.UID == "" {
		return nil, nil
	}
	claim, err = c.client.CoreV1().PersistentVolumeClaims(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return claim, wrap(err, "get claim %s/%s of volume %s", ref.Namespace, ref.Name, pv.Name)
}

func (c *Controller) applyVolume(ctx context.Context, pv *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim, plan volumePlan) error {
	c.record(pv, plan.event)
	pvs := c.client.CoreV1().PersistentVolumes()
	var err error
	if plan.unbind {
		if pv, err = pvs.Update(ctx, unboundVolume(pv), metav1.UpdateOptions{}); err != nil {
			return wrap(err, "unbind volume %s", pv.Name)
		}
	}
	if next, changed := withVolumePhase(pv, plan.phase, plan.message, c.clock.Now()); changed {
		if pv, err = pvs.UpdateStatus(ctx, next, metav1.UpdateOptions{}); err != nil {
			return wrap(err, "volume %s phase %s", next.Name, plan.phase)
		}
	}
	if plan.delete {
		return c.deleteVolume(ctx, pv)
	}
	if plan.syncClaim && claim != nil {
		c.queue.Add(key{kind: claimKind, namespace: claim.Namespace, name: claim.Name})
	}
	return nil
}

// deleteVolume deletes a released volume provisioned here; if its node
// made a backing file, the volume stays (Terminating) until the node has
// removed the file and the finalizer guarding it.
func (c *Controller) deleteVolume(ctx context.Context, pv *corev1.PersistentVolume) error {
	uid := pv.UID
	err := c.client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	if err != nil {
		c.events.Eventf(pv, corev1.EventTypeWarning, ReasonVolumeFailedDelete, "%v", err)
		return wrap(err, "delete released volume %s", pv.Name)
	}
	c.log.Info("deleted released volume", "volume", pv.Name)
	return nil
}
