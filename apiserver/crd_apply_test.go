package apiserver

import (
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// listWidgetCRD is widgetCRD with spec.items, a list of maps keyed by name
// (x-kubernetes-list-type: map), whose entries managers own one by one.
func listWidgetCRD() *apiextensionsv1.CustomResourceDefinition {
	crd := widgetCRD()
	spec := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
	spec.Properties["items"] = apiextensionsv1.JSONSchemaProps{Type: "array", XListType: ptr("map"), XListMapKeys: []string{"name"},
		Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", Required: []string{"name"},
			Properties: map[string]apiextensionsv1.JSONSchemaProps{"name": {Type: "string"}, "value": {Type: "integer"}}}}}
	crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"] = spec
	return crd
}

func managers(u *unstructured.Unstructured) string {
	var out []string
	for _, m := range u.GetManagedFields() {
		out = append(out, m.Manager+"/"+string(m.Operation)+"/"+m.Subresource)
	}
	return strings.Join(out, " ")
}

// Server-side apply works for custom resources as for built-in ones (it
// was a 415: operators that apply their status, as prometheus-operator
// does, never got it written): the definition's schema gives the merge
// its list keys, managers own fields, a conflict is a 409 naming the
// owner, force takes the field, the status subresource is applied apart,
// and a plain update is recorded as the updater's.
func TestCustomResourceServerSideApply(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	createEstablished(t, ts, listWidgetCRD())
	ws := ts.dynamic(t).Resource(widgetsV1).Namespace("default")
	item := func(name string, v int64) map[string]any { return map[string]any{"name": name, "value": v} }

	got, err := ws.Apply(bg, "w1", widget("w1", map[string]any{"replicas": int64(2), "items": []any{item("a", 1)}}),
		metav1.ApplyOptions{FieldManager: "alice"})
	if err != nil {
		t.Fatalf("apply that creates: %v", err)
	}
	if c, _, _ := unstructured.NestedString(got.Object, "spec", "color"); c != "blue" || managers(got) != "alice/Apply/" {
		t.Fatalf("created: color %q (want the default blue), managers %q", c, managers(got))
	}
	// Bob applies another entry of the keyed list: both stay.
	got, err = ws.Apply(bg, "w1", widget("w1", map[string]any{"items": []any{item("b", 2)}}), metav1.ApplyOptions{FieldManager: "bob"})
	if err != nil {
		t.Fatalf("bob's apply: %v", err)
	}
	if items, _, _ := unstructured.NestedSlice(got.Object, "spec", "items"); len(items) != 2 {
		t.Fatalf("items after bob's apply: %v, want a and b", items)
	}
	// Bob's replicas conflict with alice's, until he forces them.
	_, err = ws.Apply(bg, "w1", widget("w1", map[string]any{"replicas": int64(3)}), metav1.ApplyOptions{FieldManager: "bob"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `"alice"`) || !strings.Contains(err.Error(), ".spec.replicas") {
		t.Fatalf("bob's apply of alice's replicas: %v, want a 409 naming alice and .spec.replicas", err)
	}
	got, err = ws.Apply(bg, "w1", widget("w1", map[string]any{"replicas": int64(3), "items": []any{item("b", 2)}}),
		metav1.ApplyOptions{FieldManager: "bob", Force: true})
	if err != nil {
		t.Fatalf("bob's forced apply: %v", err)
	}
	if r, _, _ := unstructured.NestedInt64(got.Object, "spec", "replicas"); r != 3 {
		t.Fatalf("replicas after the forced apply: %d", r)
	}
	// The status subresource: applied by the operator, the spec untouched.
	st := widget("w1", nil)
	delete(st.Object, "spec")
	st.Object["status"] = map[string]any{"ready": true}
	got, err = ws.ApplyStatus(bg, "w1", st, metav1.ApplyOptions{FieldManager: "operator", Force: true})
	if err != nil {
		t.Fatalf("status apply: %v", err)
	}
	ready, _, _ := unstructured.NestedBool(got.Object, "status", "ready")
	if r, _, _ := unstructured.NestedInt64(got.Object, "spec", "replicas"); !ready || r != 3 {
		t.Fatalf("after the status apply: ready %v replicas %d", ready, r)
	}
	if m := managers(got); !strings.Contains(m, "operator/Apply/status") {
		t.Fatalf("managers after the status apply: %q", m)
	}
	// A plain update is the updater's.
	unstructured.SetNestedField(got.Object, "red", "spec", "color")
	got, err = ws.Update(bg, got, metav1.UpdateOptions{FieldManager: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	if m := managers(got); !strings.Contains(m, "carol/Update/") {
		t.Fatalf("managers after carol's update: %q", m)
	}
}
