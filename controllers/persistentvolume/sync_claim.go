package persistentvolume

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nodeagent/nodeagent/api/podrefs"
)

// syncClaim decides about one claim from the caches, then writes.
func (c *Controller) syncClaim(ctx context.Context, namespace, name string) error {
	claim, err := c.claims.PersistentVolumeClaims(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if claim.DeletionTimestamp != nil {
		// A write brings the object back through the informer.
		if wrote, err := c.releaseClaimProtection(ctx, claim); wrote || err != nil {
			return err
		}
	}
	in, err := c.claimInput(claim)
	if err != nil {
		return err
	}
	return c.applyClaim(ctx, claim, decideClaim(in))
}

func (c *Controller) claimInput(claim *corev1.PersistentVolumeClaim) (claimInput, error) {
	volumes, err := c.volumes.List(labels.Everything())
	if err != nil {
		return claimInput{}, err
	}
	in := claimInput{claim: claim, volumes: volumes, waitingPods: c.waitingPods(claim),
		nodeExists: func(n string) bool { _, err := c.nodes.Get(n); return err == nil }}
	if class := ClaimClass(claim); class != "" {
		if in.class, err = c.classes.Get(class); err != nil && !apierrors.IsNotFound(err) {
			return claimInput{}, err
		}
	}
	return in, nil
}

// waitingPods are the cached pods, not yet scheduled, that use the claim.
func (c *Controller) waitingPods(claim *corev1.PersistentVolumeClaim) []string {
	pods, _ := c.pods.Pods(claim.Namespace).List(labels.Everything())
	var out []string
	for _, p := range pods {
		if p.Spec.NodeName == "" && p.DeletionTimestamp == nil && usesClaim(p, claim.Name) {
			out = append(out, p.Name)
		}
	}
	return out
}

func usesClaim(pod *corev1.Pod, claim string) bool {
	for _, n := range podrefs.Of(pod).Claims {
		if n == claim {
			return true
		}
	}
	return false
}

func (c *Controller) applyClaim(ctx context.Context, claim *corev1.PersistentVolumeClaim, plan claimPlan) error {
	c.record(claim, plan.event)
	claim, err := c.annotateClaim(ctx, claim, plan.annotate, plan.unselectNode)
	if err != nil {
		return err
	}
	switch {
	case plan.bind != nil:
		return c.bind(ctx, plan.bind, claim)
	case plan.provision != nil:
		return c.provision(ctx, claim, plan.provision)
	case plan.phase != "" && plan.phase != claim.Status.Phase:
		claim = claim.DeepCopy()
		claim.Status.Phase = plan.phase
		_, err := c.client.CoreV1().PersistentVolumeClaims(claim.Namespace).UpdateStatus(ctx, claim, metav1.UpdateOptions{})
		return wrap(err, "claim %s/%s phase %s", claim.Namespace, claim.Name, plan.phase)
	}
	return nil
}

// annotateClaim sets annotations and removes the selected node, if that
// changes anything.
func (c *Controller) annotateClaim(ctx context.Context, claim *corev1.PersistentVolumeClaim, ann map[string]string, unselect bool) (*corev1.PersistentVolumeClaim, error) {
	out := claim.DeepCopy()
	for k, v := range ann {
		setAnnotation(&out.Annotations, k, v)
	}
	if unselect {
		delete(out.Annotations, AnnSelectedNode)
	}
	if maps.Equal(out.Annotations, claim.Annotations) {
		return claim, nil
	}
	updated, err := c.client.CoreV1().PersistentVolumeClaims(out.Namespace).Update(ctx, out, metav1.UpdateOptions{})
	return updated, wrap(err, "annotate claim %s/%s", claim.Namespace, claim.Name)
}

// bind writes the four steps of a binding that are not done yet.
func (c *Controller) bind(ctx context.Context, pv *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) error {
	pvs, claims := c.client.CoreV1().PersistentVolumes(), c.client.CoreV1().PersistentVolumeClaims(claim.Namespace)
	var err error
	if next, changed := boundVolume(pv, claim); changed {
		if pv, err = pvs.Update(ctx, next, metav1.UpdateOptions{}); err != nil {
			return wrap(err, "bind volume %s to claim %s/%s", next.Name, claim.Namespace, claim.Name)
		}
	}
	if next, changed := withVolumePhase(pv, corev1.VolumeBound, "", c.clock.Now()); changed {
		if pv, err = pvs.UpdateStatus(ctx, next, metav1.UpdateOptions{}); err != nil {
			return wrap(err, "volume %s phase Bound", pv.Name)
		}
	}
	if next, changed := boundClaim(claim, pv); changed {
		if claim, err = claims.Update(ctx, next, metav1.UpdateOptions{}); err != nil {
			return wrap(err, "bind claim %s/%s to volume %s", claim.Namespace, claim.Name, pv.Name)
		}
	}
	if next, changed := claimBoundStatus(claim, pv); changed {
		if _, err = claims.UpdateStatus(ctx, next, metav1.UpdateOptions{}); err != nil {
			return wrap(err, "claim %s/%s phase Bound", claim.Namespace, claim.Name)
		}
		c.log.Info("bound claim", "claim", claim.Namespace+"/"+claim.Name, "volume", pv.Name)
	}
	return nil
}

// provision creates the volume for the claim; the next sync binds them.
func (c *Controller) provision(ctx context.Context, claim *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) error {
	c.events.Eventf(claim, corev1.EventTypeNormal, ReasonProvisioning, "External provisioner is provisioning volume for claim %q", claim.Namespace+"/"+claim.Name)
	_, err := c.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return nil
	case err != nil:
		c.events.Eventf(claim, corev1.EventTypeWarning, ReasonProvisioningFailed, "failed to provision volume with StorageClass %q: %v", ClaimClass(claim), err)
		return fmt.Errorf("provision volume for claim %s/%s: %w", claim.Namespace, claim.Name, err)
	}
	c.events.Eventf(claim, corev1.EventTypeNormal, ReasonProvisioningSucceeded, "Successfully provisioned volume %s", pv.Name)
	c.log.Info("provisioned volume", "claim", claim.Namespace+"/"+claim.Name, "volume", pv.Name, "node", claim.Annotations[AnnSelectedNode])
	return nil
}
