package printers

import (
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Printer renders objects of one resource as table rows.
type Printer interface {
	// Columns returns the column definitions, wide ones (Priority 1)
	// included. The caller may modify the returned slice.
	Columns() []metav1.TableColumnDefinition
	// Row returns the cells of obj's row, one per column, in column order.
	// now is the time ages are measured against.
	Row(obj runtime.Object, now time.Time) ([]interface{}, error)
}

// conditioner is implemented by printers whose rows carry conditions
// (a completed pod's row is marked Completed).
type conditioner interface {
	Conditions(obj runtime.Object) []metav1.TableRowCondition
}

// For returns the printer of a plural resource name ("pods", "services",
// ...). For a resource without a dedicated printer it returns Default and
// false.
func For(resource string) (Printer, bool) {
	switch resource {
	case "pods":
		return podPrinter(), true
	case "services":
		return servicePrinter(), true
	case "endpointslices":
		return endpointSlicePrinter(), true
	case "endpoints":
		return endpointsPrinter(), true
	case "nodes":
		return nodePrinter(), true
	case "namespaces":
		return namespacePrinter(), true
	case "configmaps":
		return configMapPrinter(), true
	case "secrets":
		return secretPrinter(), true
	case "serviceaccounts":
		return serviceAccountPrinter(), true
	case "events":
		return eventPrinter(), true
	case "leases":
		return leasePrinter(), true
	case "persistentvolumes":
		return persistentVolumePrinter(), true
	case "persistentvolumeclaims":
		return persistentVolumeClaimPrinter(), true
	case "storageclasses":
		return storageClassPrinter(), true
	case "volumeattachments":
		return volumeAttachmentPrinter(), true
	case "csidrivers":
		return csiDriverPrinter(), true
	case "priorityclasses":
		return priorityClassPrinter(), true
	case "rolebindings":
		return roleBindingPrinter(), true
	case "clusterrolebindings":
		return clusterRoleBindingPrinter(), true
	case "deployments":
		return deploymentPrinter(), true
	case "replicasets":
		return replicaSetPrinter(), true
	case "statefulsets":
		return statefulSetPrinter(), true
	case "daemonsets":
		return daemonSetPrinter(), true
	case "controllerrevisions":
		return controllerRevisionPrinter(), true
	case "jobs":
		return jobPrinter(), true
	case "cronjobs":
		return cronJobPrinter(), true
	case "networkpolicies":
		return networkPolicyPrinter(), true
	case "ingresses":
		return ingressPrinter(), true
	case "ingressclasses":
		return ingressClassPrinter(), true
	case "servicecidrs":
		return serviceCIDRPrinter(), true
	case "ipaddresses":
		return ipAddressPrinter(), true
	case "poddisruptionbudgets":
		return podDisruptionBudgetPrinter(), true
	case "customresourcedefinitions":
		return crdPrinter(), true
	}
	return Default(), false
}

// typed is a Printer for objects of type T.
type typed[T runtime.Object] struct {
	columns []metav1.TableColumnDefinition
	cells   func(obj T, now time.Time) []interface{}
	// conditions is optional.
	conditions func(obj T) []metav1.TableRowCondition
}

var _ Printer = typed[*metav1.PartialObjectMetadata]{}

func (p typed[T]) Columns() []metav1.TableColumnDefinition {
	return slices.Clone(p.columns)
}

func (p typed[T]) Row(obj runtime.Object, now time.Time) ([]interface{}, error) {
	o, ok := obj.(T)
	if !ok {
		var want T
		return nil, fmt.Errorf("printers: cannot print %T with the printer for %T", obj, want)
	}
	return p.cells(o, now), nil
}

func (p typed[T]) Conditions(obj runtime.Object) []metav1.TableRowCondition {
	o, ok := obj.(T)
	if !ok || p.conditions == nil {
		return nil
	}
	return p.conditions(o)
}
