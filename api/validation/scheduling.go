package validation

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodeagent/nodeagent/api/priority"
)

// PriorityClass validates a class on create, as kube's
// ValidatePriorityClass: a name in the system- space must be one of the
// built-in classes exactly; any other class's value is at most
// 1,000,000,000.
func PriorityClass(pc *schedulingv1.PriorityClass) field.ErrorList {
	errs := ObjectMeta(&pc.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain)
	if priority.IsSystemName(pc.Name) {
		if err := priority.IsKnownSystemClass(pc.Name, pc.Value, pc.GlobalDefault); err != nil {
			errs = append(errs, field.Forbidden(metadataPath().Child("name"), fmt.Sprintf(
				"priority class names with '%s' prefix are reserved for system use only. error: %v", priority.SystemPrefix, err)))
		}
	} else if pc.Value > priority.HighestUserDefinable {
		errs = append(errs, field.Forbidden(field.NewPath("value"),
			fmt.Sprintf("maximum allowed value of a user defined priority is %d", priority.HighestUserDefinable)))
	}
	if pc.PreemptionPolicy != nil {
		errs = append(errs, enum(*pc.PreemptionPolicy, field.NewPath("preemptionPolicy"),
			corev1.PreemptLowerPriority, corev1.PreemptNever)...)
	}
	return errs
}

// PriorityClassUpdate validates an update: the value and the preemption
// policy stay, with kube's messages; description, globalDefault and
// metadata may change.
func PriorityClassUpdate(pc, old *schedulingv1.PriorityClass) field.ErrorList {
	errs := append(ObjectMetaUpdate(&pc.ObjectMeta, &old.ObjectMeta), PriorityClass(pc)...)
	if pc.Value != old.Value {
		errs = append(errs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
	}
	return append(errs, immutable(pc.PreemptionPolicy, old.PreemptionPolicy, field.NewPath("preemptionPolicy"))...)
}
