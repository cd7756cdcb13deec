package statefulset

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// claimRefs are the owner references kube's retention policy puts on a
// pod's claims: the set when whenDeleted is Delete (so the garbage
// collector deletes the claims with the set), the pod when whenScaled is
// Delete and the pod is beyond the ordinal range (so they go with it);
// a scaled-down pod's claims lose the set's reference then. Retain, the
// default, leaves the claims without either.
func claimRefs(set *appsv1.StatefulSet, pod *corev1.Pod, inRange bool) []metav1.OwnerReference {
	p := set.Spec.PersistentVolumeClaimRetentionPolicy
	var whenDeleted, whenScaled appsv1.PersistentVolumeClaimRetentionPolicyType
	if p != nil {
		whenDeleted, whenScaled = p.WhenDeleted, p.WhenScaled
	}
	setRef := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: set.Name, UID: set.UID}
	podRef := metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}
	scaledDown := whenScaled == appsv1.DeletePersistentVolumeClaimRetentionPolicyType && !inRange
	switch {
	case scaledDown:
		return []metav1.OwnerReference{podRef}
	case whenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
		return []metav1.OwnerReference{setRef}
	}
	return nil
}

// withRefs returns the claim's owner references with the set's and the
// pod's replaced by want, and whether that changes them.
func withRefs(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod, want []metav1.OwnerReference) ([]metav1.OwnerReference, bool) {
	var out []metav1.OwnerReference
	for _, r := range claim.OwnerReferences {
		if r.UID != set.UID && r.UID != pod.UID {
			out = append(out, r)
		}
	}
	out = append(out, want...)
	same := len(out) == len(claim.OwnerReferences)
	for _, r := range want {
		same = same && slices.ContainsFunc(claim.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == r.UID })
	}
	return out, !same
}

// ensureClaims creates the ordinal's missing claims. A claim still being
// deleted, or owned by an earlier pod of this name (scaled down with
// whenScaled Delete: the garbage collector will delete it), is an error:
// the pod must wait for it to go.
func (c *Controller) ensureClaims(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod, ord int) error {
	for _, claim := range newClaims(set, ord) {
		existing, err := c.claims.PersistentVolumeClaims(set.Namespace).Get(claim.Name)
		if err == nil {
			if existing.DeletionTimestamp != nil || staleOwner(existing, pod) {
				return fmt.Errorf("claim %s/%s of pod %s is being deleted", claim.Namespace, claim.Name, pod.Name)
			}
			continue
		}
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("get claim %s/%s from cache: %w", claim.Namespace, claim.Name, err)
		}
		claim.OwnerReferences = claimRefs(set, pod, true)
		_, err = c.client.CoreV1().PersistentVolumeClaims(set.Namespace).Create(ctx, claim, metav1.CreateOptions{})
		switch {
		case err == nil:
			c.events.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success", claim.Name, pod.Name, set.Name)
		case !apierrors.IsAlreadyExists(err):
			c.events.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Claim %s for Pod %s in StatefulSet %s failed error: %s", claim.Name, pod.Name, set.Name, err)
			return fmt.Errorf("create claim %s/%s: %w", claim.Namespace, claim.Name, err)
		}
	}
	return nil
}

// staleOwner: the claim is owned by another pod of the same name.
func staleOwner(claim *corev1.PersistentVolumeClaim, pod *corev1.Pod) bool {
	return slices.ContainsFunc(claim.OwnerReferences, func(r metav1.OwnerReference) bool {
		return r.APIVersion == "v1" && r.Kind == "Pod" && r.Name == pod.Name && r.UID != pod.UID
	})
}

// syncClaimRefs gives the claims of the set's live pods the owner
// references the retention policy asks for.
func (c *Controller) syncClaimRefs(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod) error {
	start, n := startOrdinal(set), replicas(set)
	for _, pod := range pods {
		ord := ordinal(pod)
		want := claimRefs(set, pod, ord >= start && ord < start+n)
		for _, tmpl := range set.Spec.VolumeClaimTemplates {
			claim, err := c.claims.PersistentVolumeClaims(set.Namespace).Get(claimName(set, tmpl.Name, ord))
			if err != nil || claim.DeletionTimestamp != nil || staleOwner(claim, pod) {
				continue // missing, going, or an earlier pod's: not this pod's to fix
			}
			refs, changed := withRefs(claim, set, pod, want)
			if !changed {
				continue
			}
			claim = claim.DeepCopy()
			claim.OwnerReferences = refs
			if _, err := c.client.CoreV1().PersistentVolumeClaims(set.Namespace).Update(ctx, claim, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("update owners of claim %s/%s: %w", claim.Namespace, claim.Name, err)
			}
		}
	}
	return nil
}
