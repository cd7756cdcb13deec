package agent

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/agent/volumemanager"
	"github.com/nodeagent/nodeagent/volumes"
)

// volumeSource is what the volume manager reads from the API, with the
// node's credentials: claims and their volumes, and the content of
// configMap, secret, downwardAPI and projected volumes.
type volumeSource struct{ a *Agent }

var _ volumemanager.Source = volumeSource{}

// Claim returns the PersistentVolume bound to the pod's claim, with
// kubelet's checks and messages (desired_state_of_world_populator).
func (s volumeSource) Claim(ctx context.Context, pod *corev1.Pod, v corev1.Volume, claim string) (*corev1.PersistentVolume, error) {
	pvc, err := s.a.client.CoreV1().PersistentVolumeClaims(pod.Namespace).Get(ctx, claim, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("error processing PVC %s/%s: failed to fetch PVC from API server: %w", pod.Namespace, claim, err)
	}
	if v.Ephemeral != nil && !metav1.IsControlledBy(pvc, pod) {
		return nil, fmt.Errorf("PVC %s/%s was not created for pod %s/%s (pod is not owner)", pod.Namespace, claim, pod.Namespace, pod.Name)
	}
	if pvc.DeletionTimestamp != nil {
		return nil, fmt.Errorf("can't start pod because PVC %s/%s is being deleted", pod.Namespace, claim)
	}
	if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" {
		return nil, fmt.Errorf("PVC %s/%s has non-bound phase (%q) or empty pvc.Spec.VolumeName (%q)",
			pod.Namespace, claim, pvc.Status.Phase, pvc.Spec.VolumeName)
	}
	pv, err := s.a.client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("error processing PVC %s/%s: failed to fetch PV %q from API server: %w", pod.Namespace, claim, pvc.Spec.VolumeName, err)
	}
	return pv, claimedBy(pv, pvc)
}

// claimedBy: the volume's claimRef names the claim (namespace, name and
// UID), so claim and volume name each other: a claim may name any volume
// (pre-binding), a pod may skip the scheduler.
func claimedBy(pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) error {
	ref := pv.Spec.ClaimRef
	switch {
	case ref == nil:
		return fmt.Errorf("found PV object %q but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim", pv.Name)
	case ref.UID != pvc.UID:
		return fmt.Errorf("found PV object %q but its pv.Spec.ClaimRef.UID (%q) does not point to claim.UID (%q)", pv.Name, ref.UID, pvc.UID)
	case ref.Namespace != pvc.Namespace || ref.Name != pvc.Name:
		return fmt.Errorf("found PV object %q but its pv.Spec.ClaimRef (%s/%s) does not name claim %s/%s", pv.Name, ref.Namespace, ref.Name, pvc.Namespace, pvc.Name)
	}
	return nil
}

// Files is the content of a configMap, secret, downwardAPI or projected
// volume.
func (s volumeSource) Files(ctx context.Context, pod *corev1.Pod, v corev1.Volume) (map[string]volumes.File, error) {
	a := s.a
	switch {
	case v.ConfigMap != nil:
		return a.configMapFiles(ctx, pod.Namespace, v.ConfigMap)
	case v.Secret != nil:
		return a.secretFiles(ctx, pod.Namespace, v.Secret)
	case v.DownwardAPI != nil:
		return a.downwardAPIFiles(pod, v.DownwardAPI)
	case v.Projected != nil:
		return a.projectedFiles(ctx, pod, v.Projected)
	}
	return nil, fmt.Errorf("volume %q has no files", v.Name)
}

// projectedFiles gathers every source of a projected volume into one
// volume, as kubelet's projected plugin does: each source's files with
// the source's mode or the volume's defaultMode; a later source's path
// replaces an earlier one's.
func (a *Agent) projectedFiles(ctx context.Context, pod *corev1.Pod, src *corev1.ProjectedVolumeSource) (map[string]volumes.File, error) {
	mode := int32(modeOr(src.DefaultMode, configMapFallbackMode))
	out := map[string]volumes.File{}
	for i, s := range src.Sources {
		files, err := a.projectedSource(ctx, pod, s, mode)
		if err != nil {
			return nil, fmt.Errorf("projected source %d: %w", i, err)
		}
		maps.Copy(out, files)
	}
	return out, nil
}

func (a *Agent) projectedSource(ctx context.Context, pod *corev1.Pod, s corev1.VolumeProjection, mode int32) (map[string]volumes.File, error) {
	switch {
	case s.ConfigMap != nil:
		return a.configMapFiles(ctx, pod.Namespace, &corev1.ConfigMapVolumeSource{LocalObjectReference: s.ConfigMap.LocalObjectReference,
			Items: s.ConfigMap.Items, Optional: s.ConfigMap.Optional, DefaultMode: &mode})
	case s.Secret != nil:
		return a.secretFiles(ctx, pod.Namespace, &corev1.SecretVolumeSource{SecretName: s.Secret.Name,
			Items: s.Secret.Items, Optional: s.Secret.Optional, DefaultMode: &mode})
	case s.DownwardAPI != nil:
		return a.downwardAPIFiles(pod, &corev1.DownwardAPIVolumeSource{Items: s.DownwardAPI.Items, DefaultMode: &mode})
	case s.ServiceAccountToken != nil:
		return a.tokens.files(ctx, pod, s.ServiceAccountToken, mode)
	case s.ClusterTrustBundle != nil:
		return nil, fmt.Errorf("clusterTrustBundle projections are not supported by nodeagent (the API server serves no ClusterTrustBundles)")
	case s.PodCertificate != nil:
		return nil, fmt.Errorf("podCertificate projections are not supported by nodeagent")
	}
	return nil, fmt.Errorf("the projection has no source")
}
