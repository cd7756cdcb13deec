package apiserver

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
)

// client-go's metadata client (metadata informers: prometheus-operator's
// for Secrets and ConfigMaps, kube's garbage collector) asks for
// meta.k8s.io PartialObjectMetadata and PartialObjectMetadataList: gets,
// lists and the objects of watch events come as those, in protobuf (the
// client's first choice) and JSON. A watch of full objects was an error for it ("no kind
// ConfigMap is registered"), so such informers never synced.
func TestPartialObjectMetadata(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	cms := ts.admin(t).CoreV1().ConfigMaps("default")
	if _, err := cms.Create(bg, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "one", Labels: map[string]string{"a": "b"}},
		Data: map[string]string{"secret": "value"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The metadata client asks for protobuf first.
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	mc := metadata.NewForConfigOrDie(ts.adminConfig(t)).Resource(gvr).Namespace("default")
	got, err := mc.Get(bg, "one", metav1.GetOptions{})
	if err != nil || got.Name != "one" || got.Labels["a"] != "b" {
		t.Fatalf("get: %+v %v", got, err)
	}
	list, err := mc.List(bg, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "one" || list.ResourceVersion == "" {
		t.Fatalf("list: %+v %v", list, err)
	}
	w, err := mc.Watch(bg, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()
	if _, err := cms.Create(bg, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "two"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w.ResultChan():
		if p, ok := ev.Object.(*metav1.PartialObjectMetadata); !ok || p.Name != "two" {
			t.Fatalf("watch event %s %T %+v", ev.Type, ev.Object, ev.Object)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event")
	}
	// In JSON the answers name their kinds and carry no data; a list asked
	// for as one object is kube's 406.
	rc := ts.admin(t).CoreV1().RESTClient()
	raw, err := rc.Get().Namespace("default").Resource("configmaps").Name("one").
		SetHeader("Accept", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1").DoRaw(bg)
	if err != nil || !strings.Contains(string(raw), `"kind":"PartialObjectMetadata"`) || strings.Contains(string(raw), "value") {
		t.Fatalf("raw get: %s %v", raw, err)
	}
	raw, err = rc.Get().Namespace("default").Resource("configmaps").
		SetHeader("Accept", "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1").DoRaw(bg)
	if err != nil || !strings.Contains(string(raw), `"kind":"PartialObjectMetadataList"`) || strings.Contains(string(raw), "value") {
		t.Fatalf("raw list: %s %v", raw, err)
	}
	err = rc.Get().Namespace("default").Resource("configmaps").
		SetHeader("Accept", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1").Do(bg).Error()
	if !apierrors.IsNotAcceptable(err) {
		t.Fatalf("a list as PartialObjectMetadata: %v, want 406", err)
	}
}
