package apiserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

var widgetsV1 = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}

// widgetCRD is a namespaced Widget with a status subresource, a printer
// column, a default and a bounded integer.
func widgetCRD() *apiextensionsv1.CustomResourceDefinition {
	props := map[string]apiextensionsv1.JSONSchemaProps{
		"spec": {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
			"replicas": {Type: "integer", Minimum: ptr(0.0)},
			"color":    {Type: "string", Default: &apiextensionsv1.JSON{Raw: []byte(`"blue"`)}},
		}},
		"status": {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{"ready": {Type: "boolean"}}},
	}
	return &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.com"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{Group: "example.com", Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ShortNames: []string{"wd"}},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema:       &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", Properties: props}},
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
				AdditionalPrinterColumns: []apiextensionsv1.CustomResourceColumnDefinition{
					{Name: "Replicas", Type: "integer", JSONPath: ".spec.replicas"}}}}}}
}

func widget(name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": name}, "spec": spec}}
}

func (ts *testServer) crdClient(t *testing.T) apiextensionsclient.Interface {
	t.Helper()
	return apiextensionsclient.NewForConfigOrDie(ts.adminConfig(t))
}

func (ts *testServer) dynamic(t *testing.T) dynamic.Interface {
	t.Helper()
	return dynamic.NewForConfigOrDie(ts.adminConfig(t))
}

// createEstablished creates crd and waits for its Established condition.
func createEstablished(t *testing.T, ts *testServer, crd *apiextensionsv1.CustomResourceDefinition) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crds := ts.crdClient(t).ApiextensionsV1().CustomResourceDefinitions()
	if _, err := crds.Create(bg, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var got *apiextensionsv1.CustomResourceDefinition
	eventuallyNoErr(t, "established", func() error {
		var err error
		if got, err = crds.Get(bg, crd.Name, metav1.GetOptions{}); err != nil {
			return err
		}
		if !apihelpers.IsCRDConditionTrue(got, apiextensionsv1.Established) {
			return errorString("not established: " + condString(got))
		}
		return nil
	})
	return got
}

func condString(crd *apiextensionsv1.CustomResourceDefinition) string {
	b, _ := json.Marshal(crd.Status.Conditions)
	return string(b)
}

// A definition gets kube's status (accepted names, NamesAccepted and
// Established, the stored version) and the cleanup finalizer; its
// resources are then in discovery, under its short name too.
func TestCRDIsEstablishedAndDiscovered(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	crd := createEstablished(t, ts, widgetCRD())
	if n := crd.Status.AcceptedNames; n.Plural != "widgets" || n.Kind != "Widget" || n.ListKind != "WidgetList" || n.Singular != "widget" {
		t.Errorf("accepted names: %+v", n)
	}
	na := apihelpers.FindCRDCondition(crd, apiextensionsv1.NamesAccepted)
	if na == nil || na.Status != apiextensionsv1.ConditionTrue || na.Reason != "NoConflicts" {
		t.Errorf("NamesAccepted: %s", condString(crd))
	}
	if got := crd.Status.StoredVersions; len(got) != 1 || got[0] != "v1" {
		t.Errorf("storedVersions %v", got)
	}
	if len(crd.Finalizers) != 1 || crd.Finalizers[0] != crdCleanupFinalizer {
		t.Errorf("finalizers %v", crd.Finalizers)
	}
	list, err := ts.admin(t).Discovery().ServerResourcesForGroupVersion("example.com/v1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range list.APIResources {
		names = append(names, r.Name)
		if r.Name == "widgets" && (!r.Namespaced || r.Kind != "Widget" || len(r.ShortNames) != 1 || r.ShortNames[0] != "wd") {
			t.Errorf("discovery: %+v", r)
		}
	}
	if strings.Join(names, ",") != "widgets,widgets/status" {
		t.Errorf("discovered %v", names)
	}
	_, all, err := ts.admin(t).Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range all {
		found = found || l.GroupVersion == "example.com/v1"
	}
	if !found {
		t.Error("example.com/v1 not in aggregated discovery")
	}
}

// Custom resources are pruned of unknown fields (refused with Strict),
// defaulted and validated
// against the schema with kube's field paths; status is written only
// through /status, and the generation moves with the spec only.
func TestCustomResourceSchemaAndStatus(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	createEstablished(t, ts, widgetCRD())
	ws := ts.dynamic(t).Resource(widgetsV1).Namespace("default")
	in := widget("w1", map[string]any{"replicas": int64(2), "bogus": "x"})
	in.Object["status"] = map[string]any{"ready": true}
	w, err := ws.Create(bg, in, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := w.Object["spec"].(map[string]any)
	if _, ok := spec["bogus"]; ok {
		t.Errorf("unknown field kept: %v", spec)
	}
	if spec["color"] != "blue" || w.Object["status"] != nil || w.GetGeneration() != 1 || w.GetUID() == "" {
		t.Errorf("created %v", w.Object)
	}
	_, err = ws.Create(bg, widget("strict", map[string]any{"bogus": "x"}), metav1.CreateOptions{FieldValidation: "Strict"})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), `Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.bogus"`) {
		t.Errorf("strict unknown field: %v", err)
	}
	_, err = ws.Create(bg, widget("bad", map[string]any{"replicas": int64(-1)}), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0") {
		t.Errorf("negative replicas: %v", err)
	}
	_, err = ws.Create(bg, widget("bad", map[string]any{"replicas": "two"}), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`) {
		t.Errorf("string replicas: %v", err)
	}

	w.Object["spec"].(map[string]any)["replicas"] = int64(3)
	w.Object["status"] = map[string]any{"ready": true}
	if w, err = ws.Update(bg, w, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if w.GetGeneration() != 2 || w.Object["status"] != nil {
		t.Errorf("after update: generation %d, status %v", w.GetGeneration(), w.Object["status"])
	}
	w.Object["status"] = map[string]any{"ready": true}
	w.Object["spec"].(map[string]any)["replicas"] = int64(9)
	if w, err = ws.UpdateStatus(bg, w, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := unstructured.NestedInt64(w.Object, "spec", "replicas"); r != 3 || w.GetGeneration() != 2 {
		t.Errorf("status update changed spec: replicas %d, generation %d", r, w.GetGeneration())
	}
	if ready, _, _ := unstructured.NestedBool(w.Object, "status", "ready"); !ready {
		t.Errorf("status not written: %v", w.Object)
	}
	// A label change is no spec change; a stale resourceVersion conflicts.
	stale := w.DeepCopy()
	w.SetLabels(map[string]string{"tier": "a"})
	if w, err = ws.Update(bg, w, metav1.UpdateOptions{}); err != nil || w.GetGeneration() != 2 {
		t.Fatalf("label update: %v, generation %d", err, w.GetGeneration())
	}
	if _, err := ws.Update(bg, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("stale update: %v", err)
	}
	if _, err := ws.Patch(bg, "w1", types.StrategicMergePatchType, []byte(`{"spec":{"replicas":1}}`), metav1.PatchOptions{}); !apierrors.IsUnsupportedMediaType(err) {
		t.Errorf("strategic merge patch: %v", err)
	}
	p, err := ws.Patch(bg, "w1", types.MergePatchType, []byte(`{"spec":{"replicas":4,"junk":1}}`), metav1.PatchOptions{})
	if r, _, _ := unstructured.NestedInt64(p.Object, "spec", "replicas"); err != nil || r != 4 || p.GetGeneration() != 3 {
		t.Fatalf("merge patch: %v %v", err, p)
	}
	if _, ok, _ := unstructured.NestedFieldNoCopy(p.Object, "spec", "junk"); ok {
		t.Error("patched unknown field kept")
	}
}

// Lists and watches take label and field selectors (metadata.name,
// metadata.namespace) and resourceVersions; kubectl's Table carries the
// printer columns.
func TestCustomResourceListWatchTable(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	createEstablished(t, ts, widgetCRD())
	ws := ts.dynamic(t).Resource(widgetsV1).Namespace("default")
	for i, name := range []string{"a", "b"} {
		w := widget(name, map[string]any{"replicas": int64(i + 1)})
		w.SetLabels(map[string]string{"name": name})
		if _, err := ws.Create(bg, w, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := ws.List(bg, metav1.ListOptions{LabelSelector: "name=b"})
	if err != nil || len(l.Items) != 1 || l.Items[0].GetName() != "b" || l.GetResourceVersion() == "" || l.GetKind() != "WidgetList" {
		t.Fatalf("label selector: %v %+v", err, l)
	}
	l, err = ts.dynamic(t).Resource(widgetsV1).List(bg, metav1.ListOptions{FieldSelector: "metadata.name=a,metadata.namespace=default"})
	if err != nil || len(l.Items) != 1 || l.Items[0].GetName() != "a" {
		t.Fatalf("field selector: %v %+v", err, l)
	}
	if _, err := ws.List(bg, metav1.ListOptions{FieldSelector: "spec.replicas=1"}); !apierrors.IsBadRequest(err) {
		t.Errorf("unsupported field: %v", err)
	}
	w, err := ws.Watch(bg, metav1.ListOptions{ResourceVersion: l.GetResourceVersion(), FieldSelector: "metadata.name=c"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := ws.Create(bg, widget("c", map[string]any{}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w.ResultChan():
		if u, ok := ev.Object.(*unstructured.Unstructured); !ok || ev.Type != "ADDED" || u.GetName() != "c" {
			t.Errorf("watch event %v %v", ev.Type, ev.Object)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event")
	}

	cfg := ts.adminConfig(t)
	cfg.GroupVersion = &schema.GroupVersion{Group: "example.com", Version: "v1"}
	cfg.APIPath = "/apis"
	cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	rc, err := rest.RESTClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rc.Get().Namespace("default").Resource("widgets").SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(bg)
	if err != nil {
		t.Fatal(err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.ColumnDefinitions) != 2 || table.ColumnDefinitions[1].Name != "Replicas" || len(table.Rows) != 3 {
		t.Fatalf("table %s", raw)
	}
	if table.Rows[1].Cells[0] != "b" || table.Rows[1].Cells[1] != float64(2) {
		t.Errorf("row %v", table.Rows[1].Cells)
	}
}

func invalidCRDs() map[string]func(*apiextensionsv1.CustomResourceDefinition) {
	return map[string]func(*apiextensionsv1.CustomResourceDefinition){
		`metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group`: func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Name = "gadgets.example.com"
		},
		`must have exactly one version marked as storage version`: func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Versions[0].Storage = false
		},
		`spec.scope: Unsupported value: "Everywhere": supported values: "Cluster", "Namespaced"`: func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Scope = "Everywhere"
		},
		`spec.validation.openAPIV3Schema.properties[spec].properties[color].type: Required value: must not be empty for specified object fields`: func(c *apiextensionsv1.CustomResourceDefinition) {
			p := c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
			p.Properties["color"] = apiextensionsv1.JSONSchemaProps{}
		},
		`spec.validation.openAPIV3Schema.x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`: func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Versions[0].Schema.OpenAPIV3Schema.XPreserveUnknownFields = ptr(false)
		},
		`spec.conversion.strategy: Unsupported value: "Webhook": supported values: "None"`: func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.WebhookConverter,
				Webhook: &apiextensionsv1.WebhookConversion{ConversionReviewVersions: []string{"v1"},
					ClientConfig: &apiextensionsv1.WebhookClientConfig{URL: ptr("https://conv.example.com/convert")}}}
		},
		`spec.names.kind: Required value`: func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Names.Kind = ""
		},
	}
}

// Definitions are validated as kube does: 422 with the field path (a
// single version's schema is reported under spec.validation, as kube's
// internal version holds it).
func TestCRDValidation(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	crds := ts.crdClient(t).ApiextensionsV1().CustomResourceDefinitions()
	for want, change := range invalidCRDs() {
		crd := widgetCRD()
		change(crd)
		_, err := crds.Create(bg, crd, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q, got %v", want, err)
		}
	}
}

// Deleting a definition deletes its objects first: it waits, Terminating,
// with the cleanup finalizer while an object's finalizer holds it.
func TestCRDDeletionDeletesObjects(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	createEstablished(t, ts, widgetCRD())
	ws := ts.dynamic(t).Resource(widgetsV1).Namespace("default")
	if _, err := ws.Create(bg, widget("plain", map[string]any{}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	held := widget("held", map[string]any{})
	held.SetFinalizers([]string{"example.com/hold"})
	if _, err := ws.Create(bg, held, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	crds := ts.crdClient(t).ApiextensionsV1().CustomResourceDefinitions()
	if err := crds.Delete(bg, "widgets.example.com", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventuallyNoErr(t, "plain deleted, held marked, definition terminating", func() error {
		if _, err := ws.Get(bg, "plain", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return errorString("plain still there")
		}
		h, err := ws.Get(bg, "held", metav1.GetOptions{})
		if err != nil || h.GetDeletionTimestamp() == nil {
			return errorString("held not marked")
		}
		crd, err := crds.Get(bg, "widgets.example.com", metav1.GetOptions{})
		if err != nil || !apihelpers.IsCRDConditionTrue(crd, apiextensionsv1.Terminating) {
			return errorString("not terminating")
		}
		return nil
	})
	if _, err := ws.Create(bg, widget("late", map[string]any{}), metav1.CreateOptions{}); !apierrors.IsMethodNotSupported(err) {
		t.Errorf("create while terminating: %v", err)
	}
	if _, err := ws.Patch(bg, "held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventuallyNoErr(t, "definition gone", func() error {
		if _, err := crds.Get(bg, "widgets.example.com", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return errorString("definition still there")
		}
		if _, err := ws.List(bg, metav1.ListOptions{}); !apierrors.IsNotFound(err) {
			return errorString("widgets still served")
		}
		return nil
	})
}

// A second definition that wants a kind the group's first one holds has
// NamesAccepted False and is neither established nor served (kind and
// listKind both conflict; kube reports the last, ListKindConflict).
func TestCRDNameConflict(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	createEstablished(t, ts, widgetCRD())
	other := widgetCRD()
	other.Name, other.Spec.Names.Plural, other.Spec.Names.Singular, other.Spec.Names.ShortNames = "gizmos.example.com", "gizmos", "gizmo", nil
	crds := ts.crdClient(t).ApiextensionsV1().CustomResourceDefinitions()
	if _, err := crds.Create(bg, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventuallyNoErr(t, "names refused", func() error {
		crd, err := crds.Get(bg, "gizmos.example.com", metav1.GetOptions{})
		if err != nil {
			return err
		}
		c := apihelpers.FindCRDCondition(crd, apiextensionsv1.NamesAccepted)
		if c == nil || c.Status != apiextensionsv1.ConditionFalse || c.Reason != "ListKindConflict" || c.Message != `"WidgetList" is already in use` {
			return errorString("conditions " + condString(crd))
		}
		if apihelpers.IsCRDConditionTrue(crd, apiextensionsv1.Established) {
			return errorString("established")
		}
		return nil
	})
	gizmos := widgetsV1
	gizmos.Resource = "gizmos"
	if _, err := ts.dynamic(t).Resource(gizmos).Namespace("default").List(bg, metav1.ListOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("gizmos served: %v", err)
	}
}

// Versions are served with conversion None: an object written in one
// version reads in another with that version's apiVersion.
func TestCRDVersionsWithoutConversion(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	crd := widgetCRD()
	beta := crd.Spec.Versions[0]
	beta.Name, beta.Storage = "v1beta1", false
	crd.Spec.Versions = append(crd.Spec.Versions, beta)
	createEstablished(t, ts, crd)
	betaRes := widgetsV1
	betaRes.Version = "v1beta1"
	in := widget("old", map[string]any{"replicas": int64(1)})
	in.SetAPIVersion("example.com/v1beta1")
	if _, err := ts.dynamic(t).Resource(betaRes).Namespace("default").Create(bg, in, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := ts.dynamic(t).Resource(widgetsV1).Namespace("default").Get(bg, "old", metav1.GetOptions{})
	if err != nil || got.GetAPIVersion() != "example.com/v1" {
		t.Fatalf("read as v1: %v %v", err, got)
	}
	g, err := ts.admin(t).Discovery().ServerGroups()
	if err != nil {
		t.Fatal(err)
	}
	for _, grp := range g.Groups {
		if grp.Name == "example.com" && (len(grp.Versions) != 2 || grp.PreferredVersion.Version != "v1") {
			t.Errorf("group %+v", grp)
		}
	}
}

// Custom resources are authorized as any resource: a node gets nothing; a
// service account gets what a Role naming the group and resource grants.
func TestCustomResourceAuthorization(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	createEstablished(t, ts, widgetCRD())
	data, err := ts.srv.NodeKubeconfig("n1")
	if err != nil {
		t.Fatal(err)
	}
	node := dynamic.NewForConfigOrDie(ts.restConfig(t, data))
	if _, err := node.Resource(widgetsV1).Namespace("default").List(bg, metav1.ListOptions{}); !apierrors.IsForbidden(err) ||
		!strings.Contains(err.Error(), `widgets.example.com is forbidden: User "system:node:n1" cannot list resource "widgets" in API group "example.com" in the namespace "default"`) {
		t.Errorf("node list: %v", err)
	}
	if _, err := node.Resource(widgetsV1).Namespace("default").Create(bg, widget("n", map[string]any{}), metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("node create: %v", err)
	}
	admin := ts.admin(t)
	if _, err := admin.CoreV1().ServiceAccounts("default").Create(bg, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := admin.CoreV1().ServiceAccounts("default").CreateToken(bg, "robot", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	robot := dynamic.NewForConfigOrDie(&rest.Config{Host: "https://127.0.0.1:" + itoa(ts.port), BearerToken: tr.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: ts.srv.ca.CertPEM}})
	robotWidgets := robot.Resource(widgetsV1).Namespace("default")
	if _, err := robotWidgets.List(bg, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("robot without a role: %v", err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "widget-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"example.com"}, Resources: []string{"widgets"}, Verbs: []string{"get", "list"}}}}
	if _, err := admin.RbacV1().Roles("default").Create(bg, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings("default").Create(bg, bindRole("default", "robot-reads", "Role", "widget-reader",
		rbacSubject(rbacv1.ServiceAccountKind, "robot")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventuallyNoErr(t, "robot lists widgets", func() error {
		_, err := robotWidgets.List(bg, metav1.ListOptions{})
		return err
	})
	if _, err := robotWidgets.Create(bg, widget("r", map[string]any{}), metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("robot create: %v", err)
	}
	if _, err := robot.Resource(widgetsV1).Namespace("kube-system").List(bg, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("robot in kube-system: %v", err)
	}
}

// A declared scale subresource reads and writes the replicas at the
// definition's paths, through the update path (generation, validation).
func TestCustomResourceScale(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	crd := widgetCRD()
	crd.Spec.Versions[0].Subresources.Scale = &apiextensionsv1.CustomResourceSubresourceScale{
		SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas", LabelSelectorPath: ptr(".status.selector")}
	crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["status"] = apiextensionsv1.JSONSchemaProps{Type: "object",
		Properties: map[string]apiextensionsv1.JSONSchemaProps{"replicas": {Type: "integer"}, "selector": {Type: "string"}}}
	createEstablished(t, ts, crd)
	ws := ts.dynamic(t).Resource(widgetsV1).Namespace("default")
	w, err := ws.Create(bg, widget("w", map[string]any{"replicas": int64(2)}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Object["status"] = map[string]any{"replicas": int64(1), "selector": "app=w"}
	if _, err := ws.UpdateStatus(bg, w, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	sc, err := ws.Get(bg, "w", metav1.GetOptions{}, "scale")
	if err != nil {
		t.Fatal(err)
	}
	spec, _, _ := unstructured.NestedInt64(sc.Object, "spec", "replicas")
	status, _, _ := unstructured.NestedInt64(sc.Object, "status", "replicas")
	sel, _, _ := unstructured.NestedString(sc.Object, "status", "selector")
	if sc.GetKind() != "Scale" || spec != 2 || status != 1 || sel != "app=w" {
		t.Fatalf("scale %v", sc.Object)
	}
	unstructured.SetNestedField(sc.Object, int64(5), "spec", "replicas")
	if _, err := ws.Update(bg, sc, metav1.UpdateOptions{}, "scale"); err != nil {
		t.Fatal(err)
	}
	got, err := ws.Get(bg, "w", metav1.GetOptions{})
	if r, _, _ := unstructured.NestedInt64(got.Object, "spec", "replicas"); err != nil || r != 5 || got.GetGeneration() != 2 {
		t.Fatalf("after scale: %v %v", err, got.Object)
	}
	if _, err := ws.Patch(bg, "w", types.MergePatchType, []byte(`{"spec":{"replicas":-3}}`), metav1.PatchOptions{}, "scale"); !apierrors.IsInvalid(err) {
		t.Errorf("negative scale: %v", err)
	}
	list, err := ts.admin(t).Discovery().ServerResourcesForGroupVersion("example.com/v1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range list.APIResources {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "widgets,widgets/status,widgets/scale" {
		t.Errorf("discovered %v", names)
	}
}

// The schema's x-kubernetes-validations rules (CEL) run on create and on
// update (transition rules see oldSelf), with kube's message and path.
func TestCustomResourceValidationRules(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	crd := widgetCRD()
	spec := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
	spec.XValidations = apiextensionsv1.ValidationRules{
		{Rule: "!has(self.replicas) || self.replicas <= 10", Message: "at most 10 replicas"},
		{Rule: "!has(oldSelf.color) || self.color == oldSelf.color", Message: "color is immutable"},
	}
	crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"] = spec
	createEstablished(t, ts, crd)
	ws := ts.dynamic(t).Resource(widgetsV1).Namespace("default")
	_, err := ws.Create(bg, widget("big", map[string]any{"replicas": int64(11)}), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `spec: Invalid value: at most 10 replicas`) {
		t.Errorf("rule on create: %v", err)
	}
	w, err := ws.Create(bg, widget("w", map[string]any{"replicas": int64(1)}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ws.Patch(bg, "w", types.MergePatchType, []byte(`{"spec":{"color":"red"}}`), metav1.PatchOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `spec: Invalid value: color is immutable`) {
		t.Errorf("transition rule: %v", err)
	}
	if _, err := ws.Patch(bg, w.GetName(), types.MergePatchType, []byte(`{"spec":{"replicas":10}}`), metav1.PatchOptions{}); err != nil {
		t.Errorf("allowed change: %v", err)
	}
}

// establishWidgets creates widgetCRD through a raw admin client and waits
// until its widgets are served (for the fuzz target).
func establishWidgets(t testing.TB, admin *http.Client, host string) {
	t.Helper()
	body, err := json.Marshal(widgetCRD())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := admin.Post(host+"/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create widgets.example.com: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := admin.Get(host + "/apis/example.com/v1/namespaces/default/widgets")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("widgets not served: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A restarted server serves the established definitions' objects from its
// first request: New reads the definitions before it returns.
func TestCustomResourcesServedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir, 0)
	createEstablished(t, ts, widgetCRD())
	created, err := ts.dynamic(t).Resource(widgetsV1).Namespace("default").Create(bg, widget("keep", map[string]any{"replicas": int64(2)}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	port := ts.port
	ts.stop()
	ts2 := startServer(t, dir, port)
	got, err := ts2.dynamic(t).Resource(widgetsV1).Namespace("default").Get(bg, "keep", metav1.GetOptions{})
	if err != nil || got.GetResourceVersion() != created.GetResourceVersion() || got.GetUID() != created.GetUID() {
		t.Fatalf("after restart: %v %v", err, got)
	}
}
