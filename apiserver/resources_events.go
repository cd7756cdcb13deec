package apiserver

import (
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodeagent/nodeagent/api/conversion"
	"github.com/nodeagent/nodeagent/api/validation"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

var eventsV1 = eventsv1.SchemeGroupVersion

// eventsResources is events.k8s.io/v1: the same Events as core/v1's (one
// etcd prefix, stored in the core form, as kube-apiserver keeps them), in
// the newer shape that client-go's events library, kube-scheduler and
// kube-proxy write. Validation is kube's, on the core form, so an
// events.k8s.io Event must carry an eventTime and its reporter, action
// and reason.
func eventsResources() []*resource {
	return []*resource{
		{gvk: eventsV1.WithKind("Event"), plural: "events", singular: "event", shortNames: []string{"ev"}, namespaced: true,
			newObj: func() runtime.Object { return &eventsv1.Event{} }, newList: func() runtime.Object { return &eventsv1.EventList{} },
			strategy: strategy{validate: typedV(eventV1), validateUpdate: updateAsCreate(eventV1)},
			fieldLabels: []string{"regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid",
				"regarding.apiVersion", "regarding.resourceVersion", "regarding.fieldPath", "reason", "reportingController", "type"},
			fieldSet: typedF(eventV1Fields)},
	}
}

// eventV1 validates an events.k8s.io/v1 Event as kube does: the core
// rules, with an eventTime required.
func eventV1(e *eventsv1.Event) field.ErrorList {
	if e.EventTime.IsZero() {
		return field.ErrorList{field.Required(field.NewPath("eventTime"), "")}
	}
	return validation.Event(conversion.EventToCore(e))
}

func eventV1Fields(e *eventsv1.Event) fields.Set {
	o := e.Regarding
	return fields.Set{"regarding.kind": o.Kind, "regarding.namespace": o.Namespace, "regarding.name": o.Name,
		"regarding.uid": string(o.UID), "regarding.apiVersion": o.APIVersion, "regarding.resourceVersion": o.ResourceVersion,
		"regarding.fieldPath": o.FieldPath, "reason": e.Reason, "reportingController": e.ReportingController, "type": e.Type}
}

// eventsV1Storage stores events.k8s.io/v1 Events in their core/v1 form.
var eventsV1Storage = &storage.Conversion{
	Stored:      func() runtime.Object { return &corev1.Event{} },
	ToStorage:   func(o runtime.Object) runtime.Object { return conversion.EventToCore(o.(*eventsv1.Event)) },
	FromStorage: func(o runtime.Object) runtime.Object { return conversion.EventFromCore(o.(*corev1.Event)) },
}
