package validation

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The rbac.authorization.k8s.io/v1 objects, validated as kube's
// pkg/apis/rbac/validation: names are path segments, rules need verbs and
// either resources (with API groups) or, in ClusterRoles only,
// non-resource URLs; bindings refer to a role of this group, which an
// update may not change; subjects are users, groups or service accounts.

// rbacName is kube's ValidateRBACName: any name usable as a path segment.
func rbacName(name string, prefix bool) []string { return path.IsValidPathSegmentName(name) }

// Role validates a namespaced Role.
func Role(r *rbacv1.Role) field.ErrorList {
	errs := ObjectMeta(&r.ObjectMeta, true, rbacName)
	for i, rule := range r.Rules {
		errs = append(errs, PolicyRule(rule, true, field.NewPath("rules").Index(i))...)
	}
	return errs
}

// RoleUpdate validates an update of a Role.
func RoleUpdate(r, old *rbacv1.Role) field.ErrorList {
	return append(Role(r), ObjectMetaUpdate(&r.ObjectMeta, &old.ObjectMeta)...)
}

// ClusterRole validates a ClusterRole and its aggregation rule.
func ClusterRole(r *rbacv1.ClusterRole) field.ErrorList {
	errs := ObjectMeta(&r.ObjectMeta, false, rbacName)
	for i, rule := range r.Rules {
		errs = append(errs, PolicyRule(rule, false, field.NewPath("rules").Index(i))...)
	}
	if r.AggregationRule == nil {
		return errs
	}
	selectors := field.NewPath("aggregationRule", "clusterRoleSelectors")
	if len(r.AggregationRule.ClusterRoleSelectors) == 0 {
		errs = append(errs, field.Required(selectors, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
	}
	for i := range r.AggregationRule.ClusterRoleSelectors {
		sel := &r.AggregationRule.ClusterRoleSelectors[i]
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, selectors.Index(i))...)
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			errs = append(errs, field.Invalid(selectors.Index(i), sel, "invalid label selector."))
		}
	}
	return errs
}

// ClusterRoleUpdate validates an update of a ClusterRole.
func ClusterRoleUpdate(r, old *rbacv1.ClusterRole) field.ErrorList {
	return append(ClusterRole(r), ObjectMetaUpdate(&r.ObjectMeta, &old.ObjectMeta)...)
}

// PolicyRule validates one rule; namespaced rules (a Role's) may not name
// non-resource URLs.
func PolicyRule(rule rbacv1.PolicyRule, namespaced bool, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(rule.Verbs) == 0 {
		errs = append(errs, field.Required(fld.Child("verbs"), "verbs must contain at least one value"))
	}
	if len(rule.NonResourceURLs) > 0 {
		if namespaced {
			errs = append(errs, field.Invalid(fld.Child("nonResourceURLs"), rule.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
		}
		if len(rule.APIGroups) > 0 || len(rule.Resources) > 0 || len(rule.ResourceNames) > 0 {
			errs = append(errs, field.Invalid(fld.Child("nonResourceURLs"), rule.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
		}
		return errs
	}
	if len(rule.APIGroups) == 0 {
		errs = append(errs, field.Required(fld.Child("apiGroups"), "resource rules must supply at least one api group"))
	}
	if len(rule.Resources) == 0 {
		errs = append(errs, field.Required(fld.Child("resources"), "resource rules must supply at least one resource"))
	}
	return errs
}

// RoleBinding validates a RoleBinding: its role is a Role or ClusterRole.
func RoleBinding(b *rbacv1.RoleBinding) field.ErrorList {
	errs := ObjectMeta(&b.ObjectMeta, true, rbacName)
	errs = append(errs, roleRef(b.RoleRef, "Role", "ClusterRole")...)
	return append(errs, subjects(b.Subjects, true)...)
}

// RoleBindingUpdate validates an update: the roleRef stays.
func RoleBindingUpdate(b, old *rbacv1.RoleBinding) field.ErrorList {
	errs := append(RoleBinding(b), ObjectMetaUpdate(&b.ObjectMeta, &old.ObjectMeta)...)
	return append(errs, sameRoleRef(b.RoleRef, old.RoleRef)...)
}

// ClusterRoleBinding validates a ClusterRoleBinding: its role is a
// ClusterRole, its service accounts name their namespace.
func ClusterRoleBinding(b *rbacv1.ClusterRoleBinding) field.ErrorList {
	errs := ObjectMeta(&b.ObjectMeta, false, rbacName)
	errs = append(errs, roleRef(b.RoleRef, "ClusterRole")...)
	return append(errs, subjects(b.Subjects, false)...)
}

// ClusterRoleBindingUpdate validates an update: the roleRef stays.
func ClusterRoleBindingUpdate(b, old *rbacv1.ClusterRoleBinding) field.ErrorList {
	errs := append(ClusterRoleBinding(b), ObjectMetaUpdate(&b.ObjectMeta, &old.ObjectMeta)...)
	return append(errs, sameRoleRef(b.RoleRef, old.RoleRef)...)
}

func sameRoleRef(ref, old rbacv1.RoleRef) field.ErrorList {
	if ref != old {
		return field.ErrorList{field.Invalid(field.NewPath("roleRef"), ref, "cannot change roleRef")}
	}
	return nil
}

func roleRef(ref rbacv1.RoleRef, kinds ...string) field.ErrorList {
	var errs field.ErrorList
	fld := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(fld.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	if !slices.Contains(kinds, ref.Kind) {
		errs = append(errs, field.NotSupported(fld.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		return append(errs, field.Required(fld.Child("name"), ""))
	}
	for _, msg := range rbacName(ref.Name, false) {
		errs = append(errs, field.Invalid(fld.Child("name"), ref.Name, msg))
	}
	return errs
}

func subjects(subs []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, s := range subs {
		errs = append(errs, Subject(s, namespaced, field.NewPath("subjects").Index(i))...)
	}
	return errs
}

// Subject validates one subject of a binding; a ClusterRoleBinding's
// service account must name its namespace.
func Subject(s rbacv1.Subject, namespaced bool, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		if s.Name != "" {
			for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(s.Name, false) {
				errs = append(errs, field.Invalid(fld.Child("name"), s.Name, msg))
			}
		}
		if s.APIGroup != "" {
			errs = append(errs, field.NotSupported(fld.Child("apiGroup"), s.APIGroup, []string{""}))
		}
		if !namespaced && s.Namespace == "" {
			errs = append(errs, field.Required(fld.Child("namespace"), ""))
		}
	case rbacv1.UserKind, rbacv1.GroupKind:
		if s.APIGroup != rbacv1.GroupName {
			errs = append(errs, field.NotSupported(fld.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
		}
	default:
		errs = append(errs, field.NotSupported(fld.Child("kind"), s.Kind,
			[]string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
	}
	return errs
}
