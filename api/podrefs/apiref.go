package podrefs

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// APIObjectReference is kube's podutil.HasAPIObjectReference: the first
// kind of API object the pod needs from the API, worded as kube's messages
// word it ("serviceaccounts", "secrets", "persistentvolumeclaims (via
// ephemeral volumes)", ...), or "" when it needs none. A volume of no known
// type, or a projected source of none, is an error.
func APIObjectReference(pod *corev1.Pod) (string, error) {
	switch {
	case pod.Spec.ServiceAccountName != "":
		return "serviceaccounts", nil
	case len(Secrets(pod)) > 0:
		return "secrets", nil
	case len(ConfigMaps(pod)) > 0:
		return "configmaps", nil
	case len(pod.Spec.ResourceClaims) > 0:
		return "resourceclaims", nil
	}
	for i := range pod.Spec.Volumes {
		if res, err := volumeAPIReference(&pod.Spec.Volumes[i]); res != "" || err != nil {
			return res, err
		}
	}
	return "", nil
}

// volumeAPIReference is what one volume needs from the API, if anything.
func volumeAPIReference(v *corev1.Volume) (string, error) {
	s := &v.VolumeSource
	switch {
	case localVolume(s):
		return "", nil
	case s.ConfigMap != nil:
		return "configmaps (via configmap volumes)", nil
	case s.Secret != nil:
		return "secrets (via secret volumes)", nil
	case s.CSI != nil:
		return "csidrivers (via CSI volumes)", nil
	case s.Glusterfs != nil:
		return "endpoints (via glusterFS volumes)", nil
	case s.PersistentVolumeClaim != nil:
		return "persistentvolumeclaims", nil
	case s.Ephemeral != nil:
		return "persistentvolumeclaims (via ephemeral volumes)", nil
	case s.AzureFile != nil:
		return "secrets (via azureFile volumes)", nil
	case s.Projected != nil:
		return projectedAPIReference(v.Name, s.Projected)
	}
	return "", fmt.Errorf("unknown volume type for volume  %q", v.Name)
}

// localVolume: the volume types that need nothing from the API.
func localVolume(s *corev1.VolumeSource) bool {
	return s.AWSElasticBlockStore != nil || s.AzureDisk != nil || s.CephFS != nil || s.Cinder != nil ||
		s.DownwardAPI != nil || s.EmptyDir != nil || s.FC != nil || s.FlexVolume != nil || s.Flocker != nil ||
		s.GCEPersistentDisk != nil || s.GitRepo != nil || s.HostPath != nil || s.Image != nil || s.ISCSI != nil ||
		s.NFS != nil || s.PhotonPersistentDisk != nil || s.PortworxVolume != nil || s.Quobyte != nil ||
		s.RBD != nil || s.ScaleIO != nil || s.StorageOS != nil || s.VsphereVolume != nil
}

func projectedAPIReference(volume string, p *corev1.ProjectedVolumeSource) (string, error) {
	for _, src := range p.Sources {
		switch {
		case src.ConfigMap != nil:
			return "configmaps (via projected volumes)", nil
		case src.Secret != nil:
			return "secrets (via projected volumes)", nil
		case src.ServiceAccountToken != nil:
			return "serviceaccounts (via projected volumes)", nil
		case src.ClusterTrustBundle != nil:
			return "clustertrustbundles", nil
		case src.PodCertificate != nil:
			return "podcertificates", nil
		case src.DownwardAPI != nil:
		default:
			return "", fmt.Errorf("unknown source for projected volume %q", volume)
		}
	}
	return "", nil
}
