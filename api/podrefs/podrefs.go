// Package podrefs names the API objects a pod uses: the secrets, config
// maps, claims and service account that kube's Node authorizer lets the
// pod's node read, and the first reference that kube refuses in a mirror
// pod (ServiceAccount and NodeRestriction admission). It walks what kube's
// podutil.VisitPodSecretNames and VisitPodConfigmapNames walk, every
// container kind included.
package podrefs

import (
	corev1 "k8s.io/api/core/v1"
)

// MirrorAnnotation marks a mirror pod, the API face of a static pod.
const MirrorAnnotation = "kubernetes.io/config.mirror"

// IsMirror reports whether the pod is a mirror pod.
func IsMirror(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[MirrorAnnotation]
	return ok
}

// Refs are the names of the objects a pod uses, in its namespace. As in
// kube, a reference with an empty name is still a reference.
type Refs struct {
	ServiceAccount string
	Secrets        []string
	ConfigMaps     []string
	// Claims are persistentVolumeClaim claim names and the claims generic
	// ephemeral volumes make (<pod>-<volume>).
	Claims []string
}

// Of returns what the pod uses.
func Of(pod *corev1.Pod) Refs {
	r := Refs{ServiceAccount: pod.Spec.ServiceAccountName, Secrets: Secrets(pod), ConfigMaps: ConfigMaps(pod)}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil:
			r.Claims = append(r.Claims, v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			r.Claims = append(r.Claims, pod.Name+"-"+v.Name)
		}
	}
	return r
}

// Names returns the names the pod uses of resource ("secrets",
// "configmaps", "persistentvolumeclaims" or "serviceaccounts").
func (r Refs) Names(resource string) []string {
	switch resource {
	case "secrets":
		return r.Secrets
	case "configmaps":
		return r.ConfigMaps
	case "persistentvolumeclaims":
		return r.Claims
	case "serviceaccounts":
		if r.ServiceAccount != "" {
			return []string{r.ServiceAccount}
		}
	}
	return nil
}

// Secrets lists the secrets the pod names: image pull secrets, env and
// envFrom of every container, and volumes (secret, projected, CSI and the
// in-tree plugins that take a secret).
func Secrets(pod *corev1.Pod) []string {
	var out []string
	add := func(name string) { out = append(out, name) }
	for _, s := range pod.Spec.ImagePullSecrets {
		add(s.Name)
	}
	forEachContainer(pod, func(envFrom []corev1.EnvFromSource, env []corev1.EnvVar) {
		for _, e := range envFrom {
			if e.SecretRef != nil {
				add(e.SecretRef.Name)
			}
		}
		for _, e := range env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				add(e.ValueFrom.SecretKeyRef.Name)
			}
		}
	})
	for i := range pod.Spec.Volumes {
		volumeSecrets(&pod.Spec.Volumes[i].VolumeSource, add)
	}
	return out
}

func volumeSecrets(v *corev1.VolumeSource, add func(string)) {
	ref := func(r *corev1.LocalObjectReference) {
		if r != nil {
			add(r.Name)
		}
	}
	switch {
	case v.Secret != nil:
		add(v.Secret.SecretName)
	case v.Projected != nil:
		for _, src := range v.Projected.Sources {
			if src.Secret != nil {
				add(src.Secret.Name)
			}
		}
	case v.CSI != nil:
		ref(v.CSI.NodePublishSecretRef)
	case v.AzureFile != nil:
		add(v.AzureFile.SecretName)
	case v.CephFS != nil:
		ref(v.CephFS.SecretRef)
	case v.Cinder != nil:
		ref(v.Cinder.SecretRef)
	case v.FlexVolume != nil:
		ref(v.FlexVolume.SecretRef)
	case v.RBD != nil:
		ref(v.RBD.SecretRef)
	case v.ScaleIO != nil:
		ref(v.ScaleIO.SecretRef)
	case v.ISCSI != nil:
		ref(v.ISCSI.SecretRef)
	case v.StorageOS != nil:
		ref(v.StorageOS.SecretRef)
	}
}

// ConfigMaps lists the config maps the pod names: env and envFrom of every
// container, and configMap and projected volumes.
func ConfigMaps(pod *corev1.Pod) []string {
	var out []string
	add := func(name string) { out = append(out, name) }
	forEachContainer(pod, func(envFrom []corev1.EnvFromSource, env []corev1.EnvVar) {
		for _, e := range envFrom {
			if e.ConfigMapRef != nil {
				add(e.ConfigMapRef.Name)
			}
		}
		for _, e := range env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				add(e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
	})
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			add(v.ConfigMap.Name)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil {
					add(src.ConfigMap.Name)
				}
			}
		}
	}
	return out
}

// forEachContainer calls fn with the env of every init, regular and
// ephemeral container.
func forEachContainer(pod *corev1.Pod, fn func(envFrom []corev1.EnvFromSource, env []corev1.EnvVar)) {
	for _, c := range pod.Spec.InitContainers {
		fn(c.EnvFrom, c.Env)
	}
	for _, c := range pod.Spec.Containers {
		fn(c.EnvFrom, c.Env)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		fn(c.EnvFrom, c.Env)
	}
}
