package validation

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Namespace validates a namespace on create: a DNS-1123 label name and
// finalizers that are "kubernetes" or qualified names with a domain.
func Namespace(ns *corev1.Namespace) field.ErrorList {
	errs := ObjectMeta(&ns.ObjectMeta, false, apimachineryvalidation.NameIsDNSLabel)
	fld := field.NewPath("spec", "finalizers")
	for _, f := range ns.Spec.Finalizers {
		errs = append(errs, namespaceFinalizer(string(f), fld)...)
	}
	return errs
}

func namespaceFinalizer(name string, fld *field.Path) field.ErrorList {
	if errs := qualifiedName(name, fld); len(errs) > 0 {
		return errs
	}
	if !strings.Contains(name, "/") && name != string(corev1.FinalizerKubernetes) {
		return field.ErrorList{field.Invalid(fld, name, "name is neither a standard finalizer name nor is it fully qualified")}
	}
	return nil
}

// ServiceAccount validates a service account on create; only its metadata
// has rules.
func ServiceAccount(sa *corev1.ServiceAccount) field.ErrorList {
	return ObjectMeta(&sa.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
}
