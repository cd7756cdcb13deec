package validation

import (
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	noVolumeTypeMsg   = "must specify a volume type"
	manyVolumeTypeMsg = "may not specify more than 1 volume type"
	// Bounds on a projected service account token's lifetime.
	minTokenSeconds int64 = 10 * 60
	maxTokenSeconds int64 = 1 << 32
)

// volumes checks the pod's volumes and returns the valid ones by name, for
// the volume mounts to refer to.
func volumes(vs []corev1.Volume, fld *field.Path) (map[string]corev1.VolumeSource, field.ErrorList) {
	valid := map[string]corev1.VolumeSource{}
	var errs field.ErrorList
	for i := range vs {
		v := &vs[i]
		idx := fld.Index(i)
		verrs := volumeSource(&v.VolumeSource, idx)
		verrs = append(verrs, requiredDNSLabel(v.Name, idx.Child("name"))...)
		if _, dup := valid[v.Name]; dup {
			verrs = append(verrs, field.Duplicate(idx.Child("name"), v.Name))
		}
		if len(verrs) == 0 {
			valid[v.Name] = v.VolumeSource
		}
		errs = append(errs, verrs...)
	}
	return valid, errs
}

// volumeSource checks that exactly one source is set and then that source.
func volumeSource(v *corev1.VolumeSource, fld *field.Path) field.ErrorList {
	if errs := exactlyOne(fld, setMembers(v), noVolumeTypeMsg, manyVolumeTypeMsg); len(errs) > 0 {
		return errs
	}
	switch {
	case v.HostPath != nil:
		return hostPathSource(v.HostPath, fld.Child("hostPath"))
	case v.EmptyDir != nil:
		return emptyDirSource(v.EmptyDir, fld.Child("emptyDir"))
	case v.Secret != nil:
		return secretSource(v.Secret, fld.Child("secret"))
	case v.ConfigMap != nil:
		return configMapSource(v.ConfigMap, fld.Child("configMap"))
	case v.PersistentVolumeClaim != nil:
		return requiredString(v.PersistentVolumeClaim.ClaimName, fld.Child("persistentVolumeClaim", "claimName"))
	case v.DownwardAPI != nil:
		return downwardAPISource(v.DownwardAPI.Items, v.DownwardAPI.DefaultMode, fld.Child("downwardAPI"))
	case v.Projected != nil:
		return projectedSource(v.Projected, fld.Child("projected"))
	case v.NFS != nil:
		return nfsSource(v.NFS, fld.Child("nfs"))
	case v.CSI != nil:
		return csiDriver(v.CSI.Driver, fld.Child("csi", "driver"))
	case v.Ephemeral != nil:
		return ephemeralSource(v.Ephemeral, fld.Child("ephemeral"))
	case v.Image != nil:
		return imageSource(v.Image, fld.Child("image"))
	}
	return nil // the remaining (mostly retired in-tree) sources are not checked
}

func requiredString(value string, fld *field.Path) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	return nil
}

func hostPathTypes() []corev1.HostPathType {
	return []corev1.HostPathType{corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory,
		corev1.HostPathFileOrCreate, corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev}
}

func hostPathSource(h *corev1.HostPathVolumeSource, fld *field.Path) field.ErrorList {
	errs := requiredString(h.Path, fld.Child("path"))
	errs = append(errs, noBacksteps(h.Path, fld.Child("path"))...)
	if h.Type != nil && !slices.Contains(hostPathTypes(), *h.Type) {
		errs = append(errs, field.NotSupported(fld.Child("type"), *h.Type, hostPathTypes()))
	}
	return errs
}

func emptyDirSource(e *corev1.EmptyDirVolumeSource, fld *field.Path) field.ErrorList {
	if e.SizeLimit != nil && e.SizeLimit.Sign() < 0 {
		return field.ErrorList{field.Forbidden(fld.Child("sizeLimit"), "SizeLimit field must be a valid resource quantity")}
	}
	return nil
}

func secretSource(s *corev1.SecretVolumeSource, fld *field.Path) field.ErrorList {
	errs := requiredString(s.SecretName, fld.Child("secretName"))
	errs = append(errs, fileMode(s.DefaultMode, fld.Child("defaultMode"))...)
	return append(errs, keyToPaths(s.Items, fld.Child("items"))...)
}

func configMapSource(c *corev1.ConfigMapVolumeSource, fld *field.Path) field.ErrorList {
	errs := requiredString(c.Name, fld.Child("name"))
	errs = append(errs, fileMode(c.DefaultMode, fld.Child("defaultMode"))...)
	return append(errs, keyToPaths(c.Items, fld.Child("items"))...)
}

func keyToPaths(items []corev1.KeyToPath, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, kp := range items {
		idx := fld.Index(i)
		errs = append(errs, requiredString(kp.Key, idx.Child("key"))...)
		errs = append(errs, projectedPath(kp.Path, idx.Child("path"))...)
		errs = append(errs, fileMode(kp.Mode, idx.Child("mode"))...)
	}
	return errs
}

// projectedPath is a file path inside a volume: required, relative, free of
// "..", and not starting with "..".
func projectedPath(p string, fld *field.Path) field.ErrorList {
	if p == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	errs := relativePath(p, fld)
	if strings.HasPrefix(p, "..") && !strings.HasPrefix(p, "../") {
		errs = append(errs, field.Invalid(fld, p, "must not start with '..'"))
	}
	return errs
}

func downwardAPISource(items []corev1.DownwardAPIVolumeFile, mode *int32, fld *field.Path) field.ErrorList {
	errs := fileMode(mode, fld.Child("defaultMode"))
	for i, item := range items {
		idx := fld.Child("items").Index(i)
		errs = append(errs, projectedPath(item.Path, idx.Child("path"))...)
		errs = append(errs, fileMode(item.Mode, idx.Child("mode"))...)
		switch {
		case item.FieldRef != nil && item.ResourceFieldRef != nil:
			errs = append(errs, field.Invalid(idx, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		case item.FieldRef != nil:
			errs = append(errs, fieldSelector(item.FieldRef, volumeFieldPaths(), true, idx.Child("fieldRef"))...)
		case item.ResourceFieldRef != nil:
			errs = append(errs, resourceFieldSelector(item.ResourceFieldRef, true, idx.Child("resourceFieldRef"))...)
		default:
			errs = append(errs, field.Required(idx, "one of fieldRef and resourceFieldRef is required"))
		}
	}
	return errs
}

// projectedSource checks each source and that no two project the same path.
func projectedSource(p *corev1.ProjectedVolumeSource, fld *field.Path) field.ErrorList {
	errs := fileMode(p.DefaultMode, fld.Child("defaultMode"))
	paths := sets.New[string]()
	for i := range p.Sources {
		idx := fld.Child("sources").Index(i)
		src := &p.Sources[i]
		if perrs := exactlyOne(idx, setMembers(src), noVolumeTypeMsg, "may not specify more than 1 volume type per source"); len(perrs) > 0 {
			errs = append(errs, perrs...)
			continue
		}
		errs = append(errs, projection(src, idx)...)
		for _, pp := range projectionPaths(src) {
			if paths.Has(pp) {
				errs = append(errs, field.Invalid(idx, pp, "conflicting duplicate paths"))
			}
			paths.Insert(pp)
		}
	}
	return errs
}

func projection(src *corev1.VolumeProjection, fld *field.Path) field.ErrorList {
	switch {
	case src.Secret != nil:
		return keyToPaths(src.Secret.Items, fld.Child("secret", "items"))
	case src.ConfigMap != nil:
		return keyToPaths(src.ConfigMap.Items, fld.Child("configMap", "items"))
	case src.DownwardAPI != nil:
		return downwardAPISource(src.DownwardAPI.Items, nil, fld.Child("downwardAPI"))
	case src.ServiceAccountToken != nil:
		return tokenProjection(src.ServiceAccountToken, fld.Child("serviceAccountToken"))
	}
	return nil
}

func tokenProjection(t *corev1.ServiceAccountTokenProjection, fld *field.Path) field.ErrorList {
	errs := projectedPath(t.Path, fld.Child("path"))
	if t.ExpirationSeconds == nil {
		return errs
	}
	switch secs := *t.ExpirationSeconds; {
	case secs < minTokenSeconds:
		errs = append(errs, field.Invalid(fld.Child("expirationSeconds"), secs, "may not specify a duration less than 10 minutes"))
	case secs > maxTokenSeconds:
		errs = append(errs, field.Invalid(fld.Child("expirationSeconds"), secs, "may not specify a duration larger than 2^32 seconds"))
	}
	return errs
}

// projectionPaths lists the file paths a projection writes.
func projectionPaths(src *corev1.VolumeProjection) []string {
	var out []string
	switch {
	case src.Secret != nil:
		for _, it := range src.Secret.Items {
			out = append(out, it.Path)
		}
	case src.ConfigMap != nil:
		for _, it := range src.ConfigMap.Items {
			out = append(out, it.Path)
		}
	case src.DownwardAPI != nil:
		for _, it := range src.DownwardAPI.Items {
			out = append(out, it.Path)
		}
	case src.ServiceAccountToken != nil:
		out = append(out, src.ServiceAccountToken.Path)
	}
	return out
}

func nfsSource(n *corev1.NFSVolumeSource, fld *field.Path) field.ErrorList {
	errs := requiredString(n.Server, fld.Child("server"))
	switch {
	case n.Path == "":
		errs = append(errs, field.Required(fld.Child("path"), ""))
	case !path.IsAbs(n.Path):
		errs = append(errs, field.Invalid(fld.Child("path"), n.Path, "must be an absolute path"))
	}
	return errs
}

func csiDriver(driver string, fld *field.Path) field.ErrorList {
	if driver == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	return dnsSubdomain(strings.ToLower(driver), fld)
}

func ephemeralSource(e *corev1.EphemeralVolumeSource, fld *field.Path) field.ErrorList {
	if e.VolumeClaimTemplate == nil {
		return field.ErrorList{field.Required(fld.Child("volumeClaimTemplate"), "")}
	}
	return claimSpec(&e.VolumeClaimTemplate.Spec, fld.Child("volumeClaimTemplate", "spec"))
}

func imageSource(i *corev1.ImageVolumeSource, fld *field.Path) field.ErrorList {
	errs := requiredString(i.Reference, fld.Child("reference"))
	return append(errs, optionalEnum(i.PullPolicy, fld.Child("pullPolicy"),
		corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever)...)
}
