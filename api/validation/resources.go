package validation

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const hugePagesPrefix = "hugepages-"

// resourceRequirements checks limits and requests: valid names, quantities
// of at least 0 (whole numbers for extended resources), each request at
// most its limit, and equal to it for resources that cannot be overcommitted.
func resourceRequirements(r *corev1.ResourceRequirements, fld *field.Path) field.ErrorList {
	limPath, reqPath := fld.Child("limits"), fld.Child("requests")
	var errs field.ErrorList
	limitsHugePages, limitsCPUOrMemory := false, false
	for _, name := range sortedKeys(r.Limits) {
		errs = append(errs, resourceQuantity(name, r.Limits[name], limPath.Key(string(name)))...)
		limitsHugePages = limitsHugePages || isHugePages(name)
		limitsCPUOrMemory = limitsCPUOrMemory || name == corev1.ResourceCPU || name == corev1.ResourceMemory
	}
	for _, name := range sortedKeys(r.Requests) {
		errs = append(errs, resourceQuantity(name, r.Requests[name], reqPath.Key(string(name)))...)
		errs = append(errs, requestWithinLimit(name, r.Requests[name], r.Limits, limPath, reqPath)...)
	}
	if limitsHugePages && !limitsCPUOrMemory {
		errs = append(errs, field.Forbidden(fld, "HugePages require cpu or memory"))
	}
	return errs
}

func requestWithinLimit(name corev1.ResourceName, req resource.Quantity, limits corev1.ResourceList, limPath, reqPath *field.Path) field.ErrorList {
	limit, ok := limits[name]
	switch {
	case !ok && !overcommitAllowed(name):
		return field.ErrorList{field.Required(limPath, "Limit must be set for non overcommitable resources")}
	case !ok:
		return nil
	case !overcommitAllowed(name) && req.Cmp(limit) != 0:
		return field.ErrorList{field.Invalid(reqPath, req.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String()))}
	case req.Cmp(limit) > 0:
		return field.ErrorList{field.Invalid(reqPath, req.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String()))}
	}
	return nil
}

// resourceQuantity checks one container resource name and its quantity.
func resourceQuantity(name corev1.ResourceName, q resource.Quantity, fld *field.Path) field.ErrorList {
	errs := containerResourceName(name, fld)
	if q.Sign() < 0 {
		errs = append(errs, field.Invalid(fld, q.String(), nonNegativeMsg))
	}
	if isExtended(name) && q.MilliValue()%1000 != 0 {
		errs = append(errs, field.Invalid(fld, q.String(), "must be an integer"))
	}
	return errs
}

// containerResourceName: an unprefixed name must be a standard container
// resource; a prefixed one must be a qualified name, and if not in the
// kubernetes.io domain an extended resource.
func containerResourceName(name corev1.ResourceName, fld *field.Path) field.ErrorList {
	errs := qualifiedName(string(name), fld)
	if len(errs) > 0 {
		return errs
	}
	if !strings.Contains(string(name), "/") {
		if !standardContainerResource(name) {
			return field.ErrorList{field.Invalid(fld, name, "must be a standard resource for containers")}
		}
		return nil
	}
	if isExtended(name) && strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
		return field.ErrorList{field.Invalid(fld, name, "doesn't follow extended resource name standard")}
	}
	return nil
}

func standardContainerResource(name corev1.ResourceName) bool {
	switch name {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		return true
	}
	return isHugePages(name)
}

func isHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), hugePagesPrefix)
}

// isNative: unprefixed names and the kubernetes.io domain belong to
// Kubernetes.
func isNative(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}

func isExtended(name corev1.ResourceName) bool { return !isNative(name) }

// overcommitAllowed: requests may be below limits for native resources other
// than hugepages.
func overcommitAllowed(name corev1.ResourceName) bool {
	return isNative(name) && !isHugePages(name)
}
