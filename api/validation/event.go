package validation

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Length limits on the fields of a series-style (eventTime) Event.
const (
	maxEventReasonLength   = 128
	maxEventActionLength   = 128
	maxReportingInstance   = 128
	maxEventMessageLength  = 1024
	doesNotMatchNamespace  = "does not match event.namespace"
	reportingComponentName = "reportingComponent"
)

// Event validates a core/v1 event on create. As in kube, an event with no
// eventTime (the kubelet's classic kind) is only checked for a namespace
// that matches its involvedObject; one with an eventTime must also name its
// reporter, action and reason within their length limits.
func Event(e *corev1.Event) field.ErrorList {
	errs := ObjectMeta(&e.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	if e.EventTime.IsZero() {
		return append(errs, classicEventNamespace(e)...)
	}
	if e.InvolvedObject.Namespace == "" && e.Namespace != metav1.NamespaceDefault && e.Namespace != metav1.NamespaceSystem {
		errs = append(errs, field.Invalid(field.NewPath("involvedObject", "namespace"), e.InvolvedObject.Namespace, doesNotMatchNamespace))
	}
	if e.ReportingController == "" {
		errs = append(errs, field.Required(field.NewPath(reportingComponentName), ""))
	} else {
		errs = append(errs, qualifiedName(e.ReportingController, field.NewPath(reportingComponentName))...)
	}
	errs = append(errs, eventString(e.ReportingInstance, "reportingInstance", maxReportingInstance, true)...)
	errs = append(errs, eventString(e.Action, "action", maxEventActionLength, true)...)
	errs = append(errs, eventString(e.Reason, "reason", maxEventReasonLength, true)...)
	return append(errs, eventString(e.Message, "message", maxEventMessageLength, false)...)
}

// classicEventNamespace: the event lives in its object's namespace; for a
// cluster-scoped object, in "default" (or nowhere).
func classicEventNamespace(e *corev1.Event) field.ErrorList {
	obj := e.InvolvedObject.Namespace
	ok := obj == e.Namespace || (obj == "" && e.Namespace == metav1.NamespaceDefault)
	if !ok {
		return field.ErrorList{field.Invalid(field.NewPath("involvedObject", "namespace"), obj, doesNotMatchNamespace)}
	}
	return nil
}

func eventString(value, name string, maxLen int, required bool) field.ErrorList {
	fld := field.NewPath(name)
	switch {
	case required && value == "":
		return field.ErrorList{field.Required(fld, "")}
	case len(value) > maxLen:
		return field.ErrorList{field.Invalid(fld, "", fmt.Sprintf("can have at most %d characters", maxLen))}
	}
	return nil
}
