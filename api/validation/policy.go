package validation

import (
	policyv1 "k8s.io/api/policy/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// PodDisruptionBudget validates a policy/v1 PodDisruptionBudget as
// kube-apiserver does: minAvailable or maxUnavailable (not both), each a
// count or a percentage up to 100 %, a valid selector, a known unhealthy
// pod eviction policy.
func PodDisruptionBudget(pdb *policyv1.PodDisruptionBudget) field.ErrorList {
	errs := ObjectMeta(&pdb.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	s, spec := &pdb.Spec, field.NewPath("spec")
	if s.MinAvailable != nil && s.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(spec, s, "minAvailable and maxUnavailable cannot be both set"))
	}
	errs = append(errs, intOrPercent(s.MinAvailable, spec.Child("minAvailable"))...)
	errs = append(errs, notOver100Percent(s.MinAvailable, spec.Child("minAvailable"))...)
	errs = append(errs, intOrPercent(s.MaxUnavailable, spec.Child("maxUnavailable"))...)
	errs = append(errs, notOver100Percent(s.MaxUnavailable, spec.Child("maxUnavailable"))...)
	if s.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(s.Selector, metav1validation.LabelSelectorValidationOptions{}, spec.Child("selector"))...)
	}
	if p := s.UnhealthyPodEvictionPolicy; p != nil {
		errs = append(errs, enum(*p, spec.Child("unhealthyPodEvictionPolicy"), policyv1.IfHealthyBudget, policyv1.AlwaysAllow)...)
	}
	return errs
}

// PodDisruptionBudgetUpdate validates an update: the spec may change
// (since kube 1.15).
func PodDisruptionBudgetUpdate(pdb, old *policyv1.PodDisruptionBudget) field.ErrorList {
	return append(ObjectMetaUpdate(&pdb.ObjectMeta, &old.ObjectMeta), PodDisruptionBudget(pdb)...)
}
