package printers

import (
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCRDPrinter(t *testing.T) {
	p, ok := For("customresourcedefinitions")
	if got, want := header(p.Columns(), false), "NAME | CREATED AT"; !ok || got != want {
		t.Errorf("header\n got %q\nwant %q", got, want)
	}
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.com", CreationTimestamp: metav1.NewTime(at)}}
	checkCells(t, row(t, "customresourcedefinitions", crd), []interface{}{"widgets.example.com", "2026-12-06T09:00:00Z"})
}
