package printers

import (
	"encoding/json"
	"strings"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestForEveryResource checks that each served resource has a printer
// whose rows fit its columns, even for an empty object, and that a printer
// refuses objects of another type.
func TestForEveryResource(t *testing.T) {
	tests := []struct {
		resource string
		obj      runtime.Object
	}{
		{"pods", &corev1.Pod{}},
		{"services", &corev1.Service{}},
		{"nodes", &corev1.Node{}},
		{"endpointslices", &discoveryv1.EndpointSlice{}},
		{"namespaces", &corev1.Namespace{}},
		{"configmaps", &corev1.ConfigMap{}},
		{"secrets", &corev1.Secret{}},
		{"serviceaccounts", &corev1.ServiceAccount{}},
		{"events", &corev1.Event{}},
		{"persistentvolumes", &corev1.PersistentVolume{}},
		{"persistentvolumeclaims", &corev1.PersistentVolumeClaim{}},
		{"leases", &coordinationv1.Lease{}},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			row(t, tt.resource, tt.obj)
			p, _ := For(tt.resource)
			if _, err := p.Row(&metav1.Status{}, now); err == nil {
				t.Error("printed a Status")
			}
			for _, c := range p.Columns() {
				if c.Type == "" || c.Description == "" || (c.Priority != 0 && c.Priority != 1) {
					t.Errorf("column %+v", c)
				}
			}
		})
	}
}

func TestColumnsAreCopies(t *testing.T) {
	p, _ := For("pods")
	p.Columns()[0].Name = "changed"
	if p.Columns()[0].Name != "Name" {
		t.Error("Columns shares its slice")
	}
}

func cm(name string) *corev1.ConfigMap {
	c := &corev1.ConfigMap{ObjectMeta: objectMeta(name), Data: map[string]string{"k": "v"}}
	c.Labels = map[string]string{"app": "web"}
	c.ResourceVersion = "42"
	c.APIVersion, c.Kind = "v1", "ConfigMap"
	return c
}

func TestTableIncludeObject(t *testing.T) {
	tests := []struct {
		policy metav1.IncludeObjectPolicy
		want   string // the row's object as JSON, fields checked by substring
	}{
		{metav1.IncludeNone, `null`},
		{metav1.IncludeMetadata, `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"a","namespace":"default","resourceVersion":"42"`},
		{"", `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1"`},
		{metav1.IncludeObject, `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"`},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			tbl, err := Table(configMapPrinter(), objs(cm("a"), cm("b")), now, tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			if len(tbl.Rows) != 2 || tbl.Rows[1].Cells[0] != "b" {
				t.Fatalf("rows %+v", tbl.Rows)
			}
			got, err := json.Marshal(tbl.Rows[0].Object)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(got), tt.want) {
				t.Errorf("object\n got %s\nwant prefix %s", got, tt.want)
			}
			if tt.policy != metav1.IncludeObject && strings.Contains(string(got), `"data"`) {
				t.Errorf("object carries data: %s", got)
			}
		})
	}
}

func TestTableBadIncludeObject(t *testing.T) {
	_, err := Table(configMapPrinter(), objs(cm("a")), now, "Everything")
	if !apierrors.IsBadRequest(err) {
		t.Errorf("err %v, want BadRequest", err)
	}
}

func TestTableWrongType(t *testing.T) {
	if _, err := Table(configMapPrinter(), objs(&corev1.Secret{}), now, metav1.IncludeNone); err == nil {
		t.Error("a secret printed as a config map")
	}
}

// TestTableJSON checks the wire shape kubectl decodes.
func TestTableJSON(t *testing.T) {
	tests := []struct {
		name string
		objs []runtime.Object
		want []string
	}{
		{name: "empty page", want: []string{
			`"kind":"Table","apiVersion":"meta.k8s.io/v1"`,
			`"columnDefinitions":[{"name":"Name","type":"string","format":"name","description":`,
			`"rows":[]`}},
		{name: "one row", objs: objs(cm("a")), want: []string{
			`"rows":[{"cells":["a",1,"10m"],"object":{"kind":"PartialObjectMetadata"`,
			`{"name":"Data","type":"string","format":"","description":`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl, err := Table(configMapPrinter(), tt.objs, now, metav1.IncludeMetadata)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(tbl)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("JSON lacks %s\n%s", w, b)
				}
			}
		})
	}
}

func TestIncludeObjectReplaces(t *testing.T) {
	r := metav1.TableRow{Object: runtime.RawExtension{Raw: []byte(`{}`)}}
	if err := IncludeObject(&r, cm("a"), metav1.IncludeNone); err != nil {
		t.Fatal(err)
	}
	if r.Object.Object != nil || r.Object.Raw != nil {
		t.Errorf("None kept %+v", r.Object)
	}
	if err := IncludeObject(&r, cm("a"), metav1.IncludeMetadata); err != nil {
		t.Fatal(err)
	}
	m, ok := r.Object.Object.(*metav1.PartialObjectMetadata)
	if !ok || m.Name != "a" || m.Labels["app"] != "web" {
		t.Errorf("Metadata gave %#v", r.Object.Object)
	}
}
