package apiserver

import (
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/api/defaults"
	"github.com/nodeagent/nodeagent/api/validation"
)

var storageV1 = storagev1.SchemeGroupVersion

// storageResources are the storage.k8s.io/v1 resources the volume
// controllers use: classes, attachments and CSI drivers.
func storageResources() []*resource {
	return []*resource{
		{gvk: storageV1.WithKind("StorageClass"), plural: "storageclasses", singular: "storageclass", shortNames: []string{"sc"},
			newObj: func() runtime.Object { return &storagev1.StorageClass{} }, newList: func() runtime.Object { return &storagev1.StorageClassList{} },
			strategy: strategy{defaults: typed(defaults.StorageClass), validate: typedV(validation.StorageClass),
				validateUpdate: typedU(validation.StorageClassUpdate)}},
		{gvk: storageV1.WithKind("VolumeAttachment"), plural: "volumeattachments", singular: "volumeattachment",
			subresources: []string{"status"},
			newObj:       func() runtime.Object { return &storagev1.VolumeAttachment{} }, newList: func() runtime.Object { return &storagev1.VolumeAttachmentList{} },
			strategy: withStatus(strategy{defaults: typed(defaults.VolumeAttachment), validate: typedV(validation.VolumeAttachment),
				validateUpdate: typedU(validation.VolumeAttachmentUpdate),
				prepareCreate:  typed(func(va *storagev1.VolumeAttachment) { va.Status = storagev1.VolumeAttachmentStatus{} })})},
		{gvk: storageV1.WithKind("CSIDriver"), plural: "csidrivers", singular: "csidriver",
			newObj: func() runtime.Object { return &storagev1.CSIDriver{} }, newList: func() runtime.Object { return &storagev1.CSIDriverList{} },
			strategy: strategy{defaults: typed(defaults.CSIDriver), validate: typedV(validation.CSIDriver),
				validateUpdate: typedU(validation.CSIDriverUpdate)}},
	}
}
