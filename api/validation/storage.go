package validation

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// kube's limits on a class's parameters and a VolumeAttachment's status.
const (
	maxParameterSize    = 256 << 10
	maxParameterCount   = 512
	maxAttachMetadata   = 256 << 10
	maxVolumeErrorBytes = 1024
)

// StorageClass validates a storage class on create, as kube's
// ValidateStorageClass (after v1 defaulting).
func StorageClass(sc *storagev1.StorageClass) field.ErrorList {
	errs := ObjectMeta(&sc.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain)
	errs = append(errs, provisioner(sc.Provisioner, field.NewPath("provisioner"))...)
	errs = append(errs, parameters(sc.Parameters, field.NewPath("parameters"))...)
	if sc.ReclaimPolicy != nil {
		errs = append(errs, optionalEnum(*sc.ReclaimPolicy, field.NewPath("reclaimPolicy"),
			corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRetain)...)
	}
	fld := field.NewPath("volumeBindingMode")
	if sc.VolumeBindingMode == nil {
		errs = append(errs, field.Required(fld, ""))
	} else {
		errs = append(errs, enum(*sc.VolumeBindingMode, fld, storagev1.VolumeBindingImmediate, storagev1.VolumeBindingWaitForFirstConsumer)...)
	}
	return append(errs, allowedTopologies(sc.AllowedTopologies, field.NewPath("allowedTopologies"))...)
}

// StorageClassUpdate validates an update: parameters, provisioner, reclaim
// policy and binding mode stay, with kube's messages.
func StorageClassUpdate(sc, old *storagev1.StorageClass) field.ErrorList {
	errs := append(ObjectMetaUpdate(&sc.ObjectMeta, &old.ObjectMeta), StorageClass(sc)...)
	if !reflect.DeepEqual(sc.Parameters, old.Parameters) {
		errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
	}
	if sc.Provisioner != old.Provisioner {
		errs = append(errs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
	}
	if !equality.Semantic.DeepEqual(sc.ReclaimPolicy, old.ReclaimPolicy) {
		errs = append(errs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
	}
	return append(errs, immutable(sc.VolumeBindingMode, old.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
}

func provisioner(p string, fld *field.Path) field.ErrorList {
	if p == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	return invalids(fld, p, validation.IsQualifiedName(strings.ToLower(p)))
}

func parameters(params map[string]string, fld *field.Path) field.ErrorList {
	if len(params) > maxParameterCount {
		return field.ErrorList{field.TooLong(fld, "Provisioner Parameters exceeded max allowed", maxParameterCount)}
	}
	var errs field.ErrorList
	size := 0
	for _, k := range sortedKeys(params) {
		if k == "" {
			errs = append(errs, field.Invalid(fld, k, "field can not be empty."))
		}
		size += len(k) + len(params[k])
	}
	if size > maxParameterSize {
		errs = append(errs, field.TooLong(fld, "", maxParameterSize))
	}
	return errs
}

// allowedTopologies: each term's expressions name a qualified key with at
// least one value, and no term repeats another.
func allowedTopologies(terms []corev1.TopologySelectorTerm, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, term := range terms {
		idx := fld.Index(i)
		for j, e := range term.MatchLabelExpressions {
			p := idx.Child("matchLabelExpressions").Index(j)
			errs = append(errs, qualifiedName(e.Key, p.Child("key"))...)
			if len(e.Values) == 0 {
				errs = append(errs, field.Required(p.Child("values"), ""))
			}
		}
		for _, prev := range terms[:i] {
			if equality.Semantic.DeepEqual(prev, term) {
				errs = append(errs, field.Duplicate(idx.Child("matchLabelExpressions"), ""))
				break
			}
		}
	}
	return errs
}

// VolumeAttachment validates a volume attachment on create, as kube's
// ValidateVolumeAttachment and its v1 checks.
func VolumeAttachment(va *storagev1.VolumeAttachment) field.ErrorList {
	errs := ObjectMeta(&va.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain)
	spec := field.NewPath("spec")
	errs = append(errs, csiDriver(va.Spec.Attacher, spec.Child("attacher"))...)
	errs = append(errs, attachmentSource(&va.Spec.Source, spec.Child("source"))...)
	errs = append(errs, invalids(spec.Child("nodeName"), va.Spec.NodeName, apimachineryvalidation.NameIsDNSSubdomain(va.Spec.NodeName, false))...)
	return append(errs, attachmentStatus(&va.Status, field.NewPath("status"))...)
}

// VolumeAttachmentUpdate: only the status may change.
func VolumeAttachmentUpdate(va, old *storagev1.VolumeAttachment) field.ErrorList {
	errs := append(ObjectMetaUpdate(&va.ObjectMeta, &old.ObjectMeta), VolumeAttachment(va)...)
	if !equality.Semantic.DeepEqual(va.Spec, old.Spec) {
		errs = append(errs, field.Invalid(field.NewPath("spec"), va.Spec, immutableMsg))
	}
	return errs
}

func attachmentSource(src *storagev1.VolumeAttachmentSource, fld *field.Path) field.ErrorList {
	const exactlyOne = "must specify exactly one of inlineVolumeSpec and persistentVolumeName"
	switch {
	case src.InlineVolumeSpec == nil && src.PersistentVolumeName == nil:
		return field.ErrorList{field.Required(fld, exactlyOne)}
	case src.InlineVolumeSpec != nil && src.PersistentVolumeName != nil:
		return field.ErrorList{field.Forbidden(fld, exactlyOne)}
	case src.PersistentVolumeName != nil && *src.PersistentVolumeName == "":
		return field.ErrorList{field.Required(fld.Child("persistentVolumeName"), "must specify non empty persistentVolumeName")}
	case src.PersistentVolumeName != nil:
		name := *src.PersistentVolumeName
		return invalids(fld.Child("persistentVolumeName"), name, apimachineryvalidation.NameIsDNSSubdomain(name, false))
	}
	pv := &corev1.PersistentVolume{Spec: *src.InlineVolumeSpec}
	return persistentVolumeSource(&pv.Spec, fld.Child("inlineVolumeSpec"))
}

func attachmentStatus(st *storagev1.VolumeAttachmentStatus, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for k, v := range st.AttachmentMetadata {
		size += len(k) + len(v)
	}
	if size > maxAttachMetadata {
		errs = append(errs, field.TooLong(fld.Child("attachmentMetadata"), "", maxAttachMetadata))
	}
	for name, e := range map[string]*storagev1.VolumeError{"attachError": st.AttachError, "detachError": st.DetachError} {
		if e != nil && len(e.Message) > maxVolumeErrorBytes {
			errs = append(errs, field.TooLong(fld.Child(name, "message"), "", maxVolumeErrorBytes))
		}
	}
	return errs
}

// CSIDriver validates a CSI driver object on create (after v1 defaulting).
func CSIDriver(d *storagev1.CSIDriver) field.ErrorList {
	errs := ObjectMeta(&d.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain)
	errs = append(errs, csiDriverName(d.Name, field.NewPath("name"))...)
	spec := field.NewPath("spec")
	for _, b := range []struct {
		v    *bool
		name string
	}{{d.Spec.AttachRequired, "attachRequired"}, {d.Spec.PodInfoOnMount, "podInfoOnMount"},
		{d.Spec.StorageCapacity, "storageCapacity"}, {d.Spec.SELinuxMount, "seLinuxMount"}} {
		if b.v == nil {
			errs = append(errs, field.Required(spec.Child(b.name), ""))
		}
	}
	if d.Spec.FSGroupPolicy != nil {
		errs = append(errs, enum(*d.Spec.FSGroupPolicy, spec.Child("fsGroupPolicy"), storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy,
			storagev1.FileFSGroupPolicy, storagev1.NoneFSGroupPolicy)...)
	}
	for _, m := range d.Spec.VolumeLifecycleModes {
		errs = append(errs, enum(m, spec.Child("volumeLifecycleModes"), storagev1.VolumeLifecyclePersistent, storagev1.VolumeLifecycleEphemeral)...)
	}
	return append(errs, tokenRequests(d.Spec.TokenRequests, spec.Child("tokenRequests"))...)
}

// CSIDriverUpdate: attachRequired may change; the lifecycle modes may not.
func CSIDriverUpdate(d, old *storagev1.CSIDriver) field.ErrorList {
	errs := append(ObjectMetaUpdate(&d.ObjectMeta, &old.ObjectMeta), CSIDriver(d)...)
	return append(errs, immutable(d.Spec.VolumeLifecycleModes, old.Spec.VolumeLifecycleModes, field.NewPath("spec", "volumeLifecycleModes"))...)
}

// csiDriverName is kube's ValidateCSIDriverName.
func csiDriverName(name string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(name) > 63 {
		errs = append(errs, field.TooLong(fld, "", 63))
	}
	return append(errs, csiDriver(name, fld)...)
}

// tokenRequests: distinct audiences, lifetimes from 10 minutes to 2^32 s.
func tokenRequests(trs []storagev1.TokenRequest, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, tr := range trs {
		p := fld.Index(i)
		if seen[tr.Audience] {
			errs = append(errs, field.Duplicate(p.Child("audience"), tr.Audience))
			continue
		}
		seen[tr.Audience] = true
		if tr.ExpirationSeconds != nil {
			errs = append(errs, TokenExpiration(*tr.ExpirationSeconds, p.Child("expirationSeconds"))...)
		}
	}
	return errs
}

// TokenExpiration is kube's bound on a token's lifetime: at least 10
// minutes, at most 2^32 seconds.
func TokenExpiration(seconds int64, fld *field.Path) field.ErrorList {
	switch {
	case seconds < 600:
		return field.ErrorList{field.Invalid(fld, seconds, "may not specify a duration less than 10 minutes")}
	case seconds > 1<<32:
		return field.ErrorList{field.Invalid(fld, seconds, "may not specify a duration larger than 2^32 seconds")}
	}
	return nil
}

func immutable(v, old any, fld *field.Path) field.ErrorList {
	if equality.Semantic.DeepEqual(v, old) {
		return nil
	}
	return field.ErrorList{field.Invalid(fld, v, immutableMsg)}
}
