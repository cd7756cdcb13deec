package defaults

import (
	corev1 "k8s.io/api/core/v1"
)

// defaultServiceAccountTokenExpirationSeconds is a projected token's lifetime
// when unset.
const defaultServiceAccountTokenExpirationSeconds int64 = 3600

// volumes defaults each pod volume: a volume with no source is an emptyDir,
// file-projecting sources get mode 0644 (420), hostPath gets type "".
func volumes(vs []corev1.Volume) {
	for i := range vs {
		volumeSource(&vs[i].VolumeSource)
	}
}

func volumeSource(v *corev1.VolumeSource) {
	if *v == (corev1.VolumeSource{}) {
		v.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	hostPath(v.HostPath)
	if v.Secret != nil {
		defaultMode(&v.Secret.DefaultMode, corev1.SecretVolumeSourceDefaultMode)
	}
	if v.ConfigMap != nil {
		defaultMode(&v.ConfigMap.DefaultMode, corev1.ConfigMapVolumeSourceDefaultMode)
	}
	if v.DownwardAPI != nil {
		defaultMode(&v.DownwardAPI.DefaultMode, corev1.DownwardAPIVolumeSourceDefaultMode)
		downwardAPIItems(v.DownwardAPI.Items)
	}
	if v.Projected != nil {
		projected(v.Projected)
	}
	if v.Ephemeral != nil && v.Ephemeral.VolumeClaimTemplate != nil {
		claimSpec(&v.Ephemeral.VolumeClaimTemplate.Spec)
	}
}

func hostPath(h *corev1.HostPathVolumeSource) {
	if h != nil && h.Type == nil {
		h.Type = ptrTo(corev1.HostPathUnset)
	}
}

func defaultMode(mode **int32, def int32) {
	if *mode == nil {
		*mode = ptrTo(def)
	}
}

func downwardAPIItems(items []corev1.DownwardAPIVolumeFile) {
	for i := range items {
		fieldRef(items[i].FieldRef)
	}
}

func projected(p *corev1.ProjectedVolumeSource) {
	defaultMode(&p.DefaultMode, corev1.ProjectedVolumeSourceDefaultMode)
	for i := range p.Sources {
		src := &p.Sources[i]
		if src.DownwardAPI != nil {
			downwardAPIItems(src.DownwardAPI.Items)
		}
		if t := src.ServiceAccountToken; t != nil && t.ExpirationSeconds == nil {
			t.ExpirationSeconds = ptrTo(defaultServiceAccountTokenExpirationSeconds)
		}
	}
}
