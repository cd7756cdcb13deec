package printers

import (
	"time"

	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// priorityClassPrinter has kube-apiserver's PriorityClass columns; the
// preemption policy comes after the age, as there.
func priorityClassPrinter() Printer {
	doc := schedulingv1.PriorityClass{}.SwaggerDoc()
	value := column("Value", doc["value"])
	value.Type = "integer"
	globalDefault := column("Global-Default", doc["globalDefault"])
	globalDefault.Type = "boolean"
	return typed[*schedulingv1.PriorityClass]{
		columns: []metav1.TableColumnDefinition{nameColumn(), value, globalDefault, ageColumn(),
			column("PreemptionPolicy", doc["preemptionPolicy"])},
		cells: func(pc *schedulingv1.PriorityClass, now time.Time) []interface{} {
			policy := ""
			if pc.PreemptionPolicy != nil {
				policy = string(*pc.PreemptionPolicy)
			}
			return []interface{}{pc.Name, int64(pc.Value), pc.GlobalDefault, age(pc.CreationTimestamp, now), policy}
		},
	}
}
