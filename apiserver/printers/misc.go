package printers

import (
	"fmt"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Default is kube-apiserver's table for a resource without a printer of
// its own (its DefaultTableConvertor, also what a CRD without
// additionalPrinterColumns gets): NAME and CREATED AT, an RFC 3339 UTC
// timestamp that kubectl prints as is.
func Default() Printer {
	return defaultPrinter{}
}

type defaultPrinter struct{}

func (defaultPrinter) Columns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		{Name: "Created At", Type: "date", Description: metaDoc("creationTimestamp")},
	}
}

func (defaultPrinter) Row(obj runtime.Object, _ time.Time) ([]interface{}, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("printers: metadata of %T: %w", obj, err)
	}
	return []interface{}{m.GetName(), m.GetCreationTimestamp().UTC().Format(time.RFC3339)}, nil
}

func namespacePrinter() Printer {
	return typed[*corev1.Namespace]{
		columns: []metav1.TableColumnDefinition{nameColumn(), column("Status", "The status of the namespace"), ageColumn()},
		cells: func(ns *corev1.Namespace, now time.Time) []interface{} {
			return []interface{}{ns.Name, string(ns.Status.Phase), age(ns.CreationTimestamp, now)}
		},
	}
}

func configMapPrinter() Printer {
	return typed[*corev1.ConfigMap]{
		columns: []metav1.TableColumnDefinition{nameColumn(), column("Data", corev1.ConfigMap{}.SwaggerDoc()["data"]), ageColumn()},
		cells: func(cm *corev1.ConfigMap, now time.Time) []interface{} {
			return []interface{}{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), age(cm.CreationTimestamp, now)}
		},
	}
}

func secretPrinter() Printer {
	doc := corev1.Secret{}.SwaggerDoc()
	return typed[*corev1.Secret]{
		columns: []metav1.TableColumnDefinition{nameColumn(), column("Type", doc["type"]), column("Data", doc["data"]), ageColumn()},
		cells: func(s *corev1.Secret, now time.Time) []interface{} {
			return []interface{}{s.Name, string(s.Type), int64(len(s.Data)), age(s.CreationTimestamp, now)}
		},
	}
}

func serviceAccountPrinter() Printer {
	return typed[*corev1.ServiceAccount]{
		columns: []metav1.TableColumnDefinition{nameColumn(), column("Secrets", corev1.ServiceAccount{}.SwaggerDoc()["secrets"]), ageColumn()},
		cells: func(sa *corev1.ServiceAccount, now time.Time) []interface{} {
			return []interface{}{sa.Name, int64(len(sa.Secrets)), age(sa.CreationTimestamp, now)}
		},
	}
}

func leasePrinter() Printer {
	return typed[*coordinationv1.Lease]{
		columns: []metav1.TableColumnDefinition{
			nameColumn(), column("Holder", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]), ageColumn(),
		},
		cells: func(l *coordinationv1.Lease, now time.Time) []interface{} {
			return []interface{}{l.Name, derefOr(l.Spec.HolderIdentity, ""), age(l.CreationTimestamp, now)}
		},
	}
}

func eventPrinter() Printer {
	doc := corev1.Event{}.SwaggerDoc()
	return typed[*corev1.Event]{
		columns: []metav1.TableColumnDefinition{
			column("Last Seen", doc["lastTimestamp"]),
			column("Type", doc["type"]),
			column("Reason", doc["reason"]),
			column("Object", doc["involvedObject"]),
			wide(column("Subobject", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"])),
			wide(column("Source", doc["source"])),
			column("Message", doc["message"]),
			wide(column("First Seen", doc["firstTimestamp"])),
			wide(column("Count", doc["count"])),
			wide(nameColumn()),
		},
		cells: eventCells,
	}
}

// eventCells reads both event generations: core/v1 events with
// first/lastTimestamp and count, and events.k8s.io ones with eventTime and
// a series.
func eventCells(e *corev1.Event, now time.Time) []interface{} {
	first := age(e.FirstTimestamp, now)
	if e.FirstTimestamp.IsZero() {
		first = microAge(e.EventTime, now)
	}
	last := age(e.LastTimestamp, now)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	switch {
	case e.Series != nil:
		last, count = microAge(e.Series.LastObservedTime, now), e.Series.Count
	case count == 0:
		count = 1
	}
	return []interface{}{
		last, e.Type, e.Reason, eventObject(e.InvolvedObject), e.InvolvedObject.FieldPath,
		eventSource(e), strings.TrimSpace(e.Message), first, int64(count), e.Name,
	}
}

// eventObject is "pod/web", or the lower-cased kind alone without a name.
func eventObject(ref corev1.ObjectReference) string {
	kind := strings.ToLower(ref.Kind)
	if ref.Name == "" {
		return kind
	}
	return kind + "/" + ref.Name
}

// eventSource is "component, host", each falling back to the
// events.k8s.io reporting controller and instance.
func eventSource(e *corev1.Event) string {
	component := orDefault(e.Source.Component, e.ReportingController)
	host := orDefault(e.Source.Host, e.ReportingInstance)
	if host == "" {
		return component
	}
	return component + ", " + host
}
