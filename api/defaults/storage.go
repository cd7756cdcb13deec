package defaults

import (
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
)

// StorageClass sets reclaim policy Delete and volume binding mode
// Immediate when unset, as kube's storage.k8s.io/v1 defaults.
func StorageClass(sc *storagev1.StorageClass) {
	if sc.ReclaimPolicy == nil {
		sc.ReclaimPolicy = ptrTo(corev1.PersistentVolumeReclaimDelete)
	}
	if sc.VolumeBindingMode == nil {
		sc.VolumeBindingMode = ptrTo(storagev1.VolumeBindingImmediate)
	}
}

// CSIDriver sets kube's v1 defaults: attach required, no pod info on
// mount, no storage capacity, no republish, no SELinux mount, fsGroup
// policy ReadWriteOnceWithFSType, lifecycle mode Persistent.
func CSIDriver(d *storagev1.CSIDriver) {
	s := &d.Spec
	for _, b := range []**bool{&s.PodInfoOnMount, &s.StorageCapacity, &s.RequiresRepublish, &s.SELinuxMount} {
		if *b == nil {
			*b = ptrTo(false)
		}
	}
	if s.AttachRequired == nil {
		s.AttachRequired = ptrTo(true)
	}
	if s.FSGroupPolicy == nil {
		s.FSGroupPolicy = ptrTo(storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy)
	}
	if len(s.VolumeLifecycleModes) == 0 {
		s.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent}
	}
}

// VolumeAttachment defaults its inline volume spec as a PersistentVolume's.
func VolumeAttachment(va *storagev1.VolumeAttachment) {
	if spec := va.Spec.Source.InlineVolumeSpec; spec != nil {
		pv := &corev1.PersistentVolume{Spec: *spec}
		PersistentVolume(pv)
		*spec = pv.Spec
	}
}
