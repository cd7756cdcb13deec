package printers

import (
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// now is the fixed clock every test measures ages against.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// ago is a timestamp d before now.
func ago(d time.Duration) metav1.Time {
	return metav1.NewTime(now.Add(-d))
}

func agoPtr(d time.Duration) *metav1.Time {
	t := ago(d)
	return &t
}

// objectMeta is a name created ten minutes ago.
func objectMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: ago(10 * time.Minute)}
}

// row prints obj with the printer of resource and fails on error.
func row(t *testing.T, resource string, obj runtime.Object) []interface{} {
	t.Helper()
	p, ok := For(resource)
	if !ok {
		t.Fatalf("no printer for %q", resource)
	}
	cells, err := p.Row(obj, now)
	if err != nil {
		t.Fatalf("Row: %v", err)
	}
	if n := len(p.Columns()); n != len(cells) {
		t.Fatalf("%d cells for %d columns: %v", len(cells), n, cells)
	}
	return cells
}

// cell is obj's cell under the column named name (as kubectl prints it,
// upper case).
func cell(t *testing.T, resource string, obj runtime.Object, name string) interface{} {
	t.Helper()
	p, _ := For(resource)
	cells := row(t, resource, obj)
	for i, c := range p.Columns() {
		if strings.ToUpper(c.Name) == name {
			return cells[i]
		}
	}
	t.Fatalf("%s has no column %s", resource, name)
	return nil
}

// header is the header line kubectl prints, with or without -o wide.
func header(cols []metav1.TableColumnDefinition, wide bool) string {
	var names []string
	for _, c := range cols {
		if c.Priority == 0 || wide {
			names = append(names, strings.ToUpper(c.Name))
		}
	}
	return strings.Join(names, " | ")
}

// checkCells compares whole rows.
func checkCells(t *testing.T, got, want []interface{}) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cells\n got %#v\nwant %#v", got, want)
	}
}

func objs(o ...runtime.Object) []runtime.Object {
	return o
}
