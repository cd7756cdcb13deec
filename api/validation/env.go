package validation

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	valueFromNoneMsg = "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
	oneAtATimeMsg    = "may not have more than one field specified at a time"
)

// envFieldPaths are the pod fields an env var can take its value from.
func envFieldPaths() sets.Set[string] {
	return sets.New("metadata.name", "metadata.namespace", "metadata.uid",
		"spec.nodeName", "spec.serviceAccountName",
		"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs")
}

// volumeFieldPaths are the pod fields a downwardAPI volume can project.
func volumeFieldPaths() sets.Set[string] {
	return sets.New("metadata.name", "metadata.namespace", "metadata.uid",
		"metadata.labels", "metadata.annotations")
}

// containerResourceFields are what a resourceFieldRef can refer to, besides
// hugepages.
func containerResourceFields() sets.Set[string] {
	return sets.New("limits.cpu", "limits.memory", "limits.ephemeral-storage",
		"requests.cpu", "requests.memory", "requests.ephemeral-storage")
}

// env checks names (kube's relaxed rule, GA since 1.34: printable ASCII
// without '=') and valueFrom.
func env(vars []corev1.EnvVar, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, v := range vars {
		idx := fld.Index(i)
		if v.Name == "" {
			errs = append(errs, field.Required(idx.Child("name"), ""))
		} else {
			errs = append(errs, invalids(idx.Child("name"), v.Name, validation.IsRelaxedEnvVarName(v.Name))...)
		}
		if v.ValueFrom != nil {
			errs = append(errs, envValueFrom(v, idx.Child("valueFrom"))...)
		}
	}
	return errs
}

func envValueFrom(v corev1.EnvVar, fld *field.Path) field.ErrorList {
	src := v.ValueFrom
	members := setMembers(src)
	switch {
	case len(members) == 0:
		return field.ErrorList{field.Invalid(fld, "", valueFromNoneMsg)}
	case len(members) > 1:
		return field.ErrorList{field.Invalid(fld, "", oneAtATimeMsg)}
	case v.Value != "":
		return field.ErrorList{field.Invalid(fld, "", "may not be specified when `value` is not empty")}
	}
	switch {
	case src.FieldRef != nil:
		return fieldSelector(src.FieldRef, envFieldPaths(), false, fld.Child("fieldRef"))
	case src.ResourceFieldRef != nil:
		return resourceFieldSelector(src.ResourceFieldRef, false, fld.Child("resourceFieldRef"))
	case src.ConfigMapKeyRef != nil:
		return keySelector(src.ConfigMapKeyRef.Name, src.ConfigMapKeyRef.Key, fld.Child("configMapKeyRef"))
	case src.SecretKeyRef != nil:
		return keySelector(src.SecretKeyRef.Name, src.SecretKeyRef.Key, fld.Child("secretKeyRef"))
	}
	return nil
}

// fieldSelector checks a downward API fieldRef. With subscripts allowed,
// metadata.labels['key'] and metadata.annotations['key'] are accepted too.
func fieldSelector(f *corev1.ObjectFieldSelector, valid sets.Set[string], subscripts bool, fld *field.Path) field.ErrorList {
	if f.APIVersion == "" {
		return field.ErrorList{field.Required(fld.Child("apiVersion"), "")}
	}
	if f.APIVersion != "v1" {
		return field.ErrorList{field.NotSupported(fld.Child("apiVersion"), f.APIVersion, []string{"v1"})}
	}
	if f.FieldPath == "" {
		return field.ErrorList{field.Required(fld.Child("fieldPath"), "")}
	}
	if path, key, ok := subscripted(f.FieldPath); ok {
		return subscriptedFieldPath(path, key, fld)
	}
	if !valid.Has(f.FieldPath) {
		return field.ErrorList{field.NotSupported(fld.Child("fieldPath"), f.FieldPath, sets.List(valid))}
	}
	return nil
}

// subscripted splits `metadata.labels['key']` into its path and key.
func subscripted(fieldPath string) (path, key string, ok bool) {
	path, rest, found := strings.Cut(fieldPath, "['")
	if !found || !strings.HasSuffix(rest, "']") {
		return fieldPath, "", false
	}
	return path, strings.TrimSuffix(rest, "']"), true
}

func subscriptedFieldPath(path, key string, fld *field.Path) field.ErrorList {
	switch path {
	case "metadata.labels":
		return qualifiedName(key, fld)
	case "metadata.annotations":
		return qualifiedName(strings.ToLower(key), fld)
	}
	return field.ErrorList{field.Invalid(fld, path, "does not support subscript")}
}

// resourceFieldSelector checks a resourceFieldRef; a volume's must name its
// container.
func resourceFieldSelector(r *corev1.ResourceFieldSelector, volume bool, fld *field.Path) field.ErrorList {
	if volume && r.ContainerName == "" {
		return field.ErrorList{field.Required(fld.Child("containerName"), "")}
	}
	if r.Resource == "" {
		return field.ErrorList{field.Required(fld.Child("resource"), "")}
	}
	valid := containerResourceFields()
	hugepages := strings.HasPrefix(r.Resource, "limits.hugepages-") || strings.HasPrefix(r.Resource, "requests.hugepages-")
	if !valid.Has(r.Resource) && !hugepages {
		return field.ErrorList{field.NotSupported(fld.Child("resource"), r.Resource, sets.List(valid))}
	}
	if r.Divisor.Sign() < 0 {
		return field.ErrorList{field.Invalid(fld.Child("divisor"), r.Divisor.String(), nonNegativeMsg)}
	}
	return nil
}

// keySelector checks a configMapKeyRef or secretKeyRef.
func keySelector(name, key string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	} else {
		errs = append(errs, dnsSubdomain(name, fld.Child("name"))...)
	}
	if key == "" {
		errs = append(errs, field.Required(fld.Child("key"), ""))
	} else {
		errs = append(errs, invalids(fld.Child("key"), key, validation.IsConfigMapKey(key))...)
	}
	return errs
}

func envFrom(sources []corev1.EnvFromSource, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, src := range sources {
		idx := fld.Index(i)
		if src.Prefix != "" {
			errs = append(errs, invalids(idx.Child("prefix"), src.Prefix, validation.IsRelaxedEnvVarName(src.Prefix))...)
		}
		switch n := len(setMembers(&src)); {
		case n == 0:
			errs = append(errs, field.Invalid(idx, "", "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			errs = append(errs, field.Invalid(idx, "", oneAtATimeMsg))
		case src.ConfigMapRef != nil:
			errs = append(errs, envFromName(src.ConfigMapRef.Name, idx.Child("configMapRef", "name"))...)
		case src.SecretRef != nil:
			errs = append(errs, envFromName(src.SecretRef.Name, idx.Child("secretRef", "name"))...)
		}
	}
	return errs
}

func envFromName(name string, fld *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	return dnsSubdomain(name, fld)
}
