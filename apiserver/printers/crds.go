package printers

import (
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// crdPrinter is kube's default table for CustomResourceDefinitions: the
// name and the creation time (RFC 3339, UTC), not an age.
func crdPrinter() Printer {
	return typed[*apiextensionsv1.CustomResourceDefinition]{
		columns: []metav1.TableColumnDefinition{nameColumn(),
			{Name: "Created At", Type: "date", Description: metaDoc("creationTimestamp")}},
		cells: func(crd *apiextensionsv1.CustomResourceDefinition, _ time.Time) []interface{} {
			return []interface{}{crd.Name, crd.CreationTimestamp.UTC().Format(time.RFC3339)}
		},
	}
}
