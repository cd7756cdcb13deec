package validation

import (
	"regexp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	maxSysctlLength = 253
	// sysctlName: segments of lower-case alphanumerics, '-' and '_' (not at
	// either end of a segment), separated by '.' or '/'.
	sysctlSegment = `[a-z0-9]([-_a-z0-9]*[a-z0-9])?`
	sysctlMsg     = "must have at most 253 characters and consist of lower case alphanumeric segments (with '-' or '_' inside) separated by '.' or '/'"
)

// sysctlName is compiled once: sysctls runs on every pod create and update.
var sysctlName = regexp.MustCompile(`^(` + sysctlSegment + `[./])*` + sysctlSegment + `$`)

func podSecurityContext(sc *corev1.PodSecurityContext, fld *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	errs := ids(sc.RunAsUser, sc.RunAsGroup, fld)
	if sc.FSGroup != nil {
		errs = append(errs, invalids(fld.Child("fsGroup"), *sc.FSGroup, validation.IsValidGroupID(*sc.FSGroup))...)
	}
	for i, g := range sc.SupplementalGroups {
		errs = append(errs, invalids(fld.Child("supplementalGroups").Index(i), g, validation.IsValidGroupID(g))...)
	}
	if sc.FSGroupChangePolicy != nil {
		errs = append(errs, enum(*sc.FSGroupChangePolicy, fld.Child("fsGroupChangePolicy"),
			corev1.FSGroupChangeOnRootMismatch, corev1.FSGroupChangeAlways)...)
	}
	if sc.SupplementalGroupsPolicy != nil {
		errs = append(errs, enum(*sc.SupplementalGroupsPolicy, fld.Child("supplementalGroupsPolicy"),
			corev1.SupplementalGroupsPolicyMerge, corev1.SupplementalGroupsPolicyStrict)...)
	}
	errs = append(errs, sysctls(sc.Sysctls, fld.Child("sysctls"))...)
	errs = append(errs, seccompProfile(sc.SeccompProfile, fld.Child("seccompProfile"))...)
	return append(errs, appArmorProfile(sc.AppArmorProfile, fld.Child("appArmorProfile"))...)
}

func securityContext(sc *corev1.SecurityContext, fld *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	errs := ids(sc.RunAsUser, sc.RunAsGroup, fld)
	if sc.ProcMount != nil {
		errs = append(errs, enum(*sc.ProcMount, fld.Child("procMount"),
			corev1.DefaultProcMount, corev1.UnmaskedProcMount)...)
	}
	errs = append(errs, seccompProfile(sc.SeccompProfile, fld.Child("seccompProfile"))...)
	errs = append(errs, appArmorProfile(sc.AppArmorProfile, fld.Child("appArmorProfile"))...)
	return append(errs, privilegeEscalation(sc, fld)...)
}

// privilegeEscalation rejects asking for no escalation while granting
// privilege outright.
func privilegeEscalation(sc *corev1.SecurityContext, fld *field.Path) field.ErrorList {
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		return nil
	}
	var errs field.ErrorList
	if sc.Privileged != nil && *sc.Privileged {
		errs = append(errs, field.Invalid(fld, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
	}
	if sc.Capabilities != nil && (slices.Contains(sc.Capabilities.Add, "SYS_ADMIN") || slices.Contains(sc.Capabilities.Add, "CAP_SYS_ADMIN")) {
		errs = append(errs, field.Invalid(fld, sc, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
	}
	return errs
}

func ids(user, group *int64, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if user != nil {
		errs = append(errs, invalids(fld.Child("runAsUser"), *user, validation.IsValidUserID(*user))...)
	}
	if group != nil {
		errs = append(errs, invalids(fld.Child("runAsGroup"), *group, validation.IsValidGroupID(*group))...)
	}
	return errs
}

func sysctls(ss []corev1.Sysctl, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, s := range ss {
		name := fld.Index(i).Child("name")
		switch {
		case s.Name == "":
			errs = append(errs, field.Required(name, ""))
		case len(s.Name) > maxSysctlLength || !sysctlName.MatchString(s.Name):
			errs = append(errs, field.Invalid(name, s.Name, sysctlMsg))
		case seen.Has(s.Name):
			errs = append(errs, field.Duplicate(name, s.Name))
		}
		seen.Insert(s.Name)
	}
	return errs
}

func seccompProfile(p *corev1.SeccompProfile, fld *field.Path) field.ErrorList {
	if p == nil {
		return nil
	}
	switch p.Type {
	case corev1.SeccompProfileTypeLocalhost:
		if p.LocalhostProfile == nil {
			return field.ErrorList{field.Required(fld.Child("localhostProfile"), "must be set when seccomp type is Localhost")}
		}
		return relativePath(*p.LocalhostProfile, fld.Child("localhostProfile"))
	case corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined:
		if p.LocalhostProfile != nil {
			return field.ErrorList{field.Invalid(fld.Child("localhostProfile"), p, "can only be set when seccomp type is Localhost")}
		}
		return nil
	}
	return field.ErrorList{field.NotSupported(fld.Child("type"), p.Type, []corev1.SeccompProfileType{
		corev1.SeccompProfileTypeLocalhost, corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined})}
}

func appArmorProfile(p *corev1.AppArmorProfile, fld *field.Path) field.ErrorList {
	if p == nil {
		return nil
	}
	switch p.Type {
	case corev1.AppArmorProfileTypeLocalhost:
		if p.LocalhostProfile == nil || *p.LocalhostProfile == "" {
			return field.ErrorList{field.Required(fld.Child("localhostProfile"), "must be set when AppArmor type is Localhost")}
		}
		return nil
	case corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined:
		if p.LocalhostProfile != nil {
			return field.ErrorList{field.Invalid(fld.Child("localhostProfile"), p.LocalhostProfile, "can only be set when AppArmor type is Localhost")}
		}
		return nil
	}
	return field.ErrorList{field.NotSupported(fld.Child("type"), p.Type, []corev1.AppArmorProfileType{
		corev1.AppArmorProfileTypeLocalhost, corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined})}
}
