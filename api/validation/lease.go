package validation

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Lease validates a lease on create: a positive duration, transitions of at
// least 0, and a preferred holder only alongside a strategy.
func Lease(l *coordinationv1.Lease) field.ErrorList {
	errs := ObjectMeta(&l.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	spec, fld := &l.Spec, field.NewPath("spec")
	if d := spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(fld.Child("leaseDurationSeconds"), *d, "must be greater than 0"))
	}
	if t := spec.LeaseTransitions; t != nil && *t < 0 {
		errs = append(errs, field.Invalid(fld.Child("leaseTransitions"), *t, nonNegativeMsg))
	}
	if spec.PreferredHolder != nil && spec.Strategy == nil {
		errs = append(errs, field.Forbidden(fld.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}
