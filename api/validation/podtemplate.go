package validation

import (
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podTemplate validates a workload's pod template at fld as kube's
// ValidatePodTemplateSpec: labels and annotations (at fld.labels and
// fld.annotations, kube's paths), the pod spec, no ephemeral containers.
func podTemplate(t *corev1.PodTemplateSpec, fld *field.Path) field.ErrorList {
	errs := metav1validation.ValidateLabels(t.Labels, fld.Child("labels"))
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(t.Annotations, fld.Child("annotations"))...)
	errs = append(errs, podSpec(&t.Spec, fld.Child("spec"))...)
	if len(t.Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(fld.Child("spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"))
	}
	return errs
}

// selectorRequired checks a workload's selector: present, well formed and,
// for kind (its lower-case name in kube's message), not empty.
func selectorRequired(sel *metav1.LabelSelector, kind string, fld *field.Path) field.ErrorList {
	if sel == nil {
		return field.ErrorList{field.Required(fld, "")}
	}
	errs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, fld)
	if kind != "" && len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(fld, sel, "empty selector is invalid for "+kind))
	}
	return errs
}

// selectorMatchesTemplate reports a selector that does not select the
// template's labels, at fld (the template's metadata.labels).
func selectorMatchesTemplate(sel *metav1.LabelSelector, t *corev1.PodTemplateSpec, fld *field.Path) field.ErrorList {
	if sel == nil {
		return nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() || s.Matches(labels.Set(t.Labels)) {
		return nil
	}
	return field.ErrorList{field.Invalid(fld, t.Labels, "`selector` does not match template `labels`")}
}

// replicatedTemplate is kube's ValidatePodTemplateSpecForReplicaSet (also
// for StatefulSets and DaemonSets): the selector matches, the template is a
// valid pod template whose pods always restart and have no deadline.
func replicatedTemplate(sel *metav1.LabelSelector, t *corev1.PodTemplateSpec, kind string, fld *field.Path) field.ErrorList {
	errs := selectorMatchesTemplate(sel, t, fld.Child("metadata", "labels"))
	errs = append(errs, podTemplate(t, fld)...)
	return append(errs, alwaysRestarts(t, kind, fld)...)
}

// statefulSetTemplate is kube's ValidatePodTemplateSpecForStatefulSet: the
// pod spec is not validated (its volume mounts may name the claim
// templates' volumes), only the labels, annotations and restart rules.
func statefulSetTemplate(sel *metav1.LabelSelector, t *corev1.PodTemplateSpec, fld *field.Path) field.ErrorList {
	errs := selectorMatchesTemplate(sel, t, fld.Child("metadata", "labels"))
	errs = append(errs, metav1validation.ValidateLabels(t.Labels, fld.Child("labels"))...)
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(t.Annotations, fld.Child("annotations"))...)
	return append(errs, alwaysRestarts(t, "StatefulSet", fld)...)
}

// alwaysRestarts: the pods of a replicated workload restart Always and
// have no deadline.
func alwaysRestarts(t *corev1.PodTemplateSpec, kind string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(fld.Child("spec", "restartPolicy"), t.Spec.RestartPolicy,
			[]corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(fld.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in "+kind+" is not Supported"))
	}
	return errs
}
