package apiserver

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

func (ts *testServer) podStoreCached(t *testing.T) bool {
	t.Helper()
	res, ok := ts.srv.reg.lookup("", "v1", "pods")
	if !ok {
		t.Fatal("no pods resource")
	}
	return ts.srv.store(res).Cached()
}

func podNames(items []corev1.Pod) []string {
	var out []string
	for _, p := range items {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

// With the watch cache, lists and watches in every output form run
// concurrently with writes over the objects the cache shares (run with
// -race: nothing may write them), every list after a write sees it, and a
// node's own list (through the nodeName index) is what a full filter gives.
func TestWatchCacheSharesObjectsSafely(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	if !ts.podStoreCached(t) {
		t.Fatal("pods are not served from a watch cache by default")
	}
	admin := ts.admin(t)
	pods := admin.CoreV1().Pods("default")
	for i := range 12 {
		p := testPod(fmt.Sprint("p", i))
		p.Spec.NodeName = fmt.Sprint("n", i%3)
		if _, err := pods.Create(bg, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	protoCfg := ts.adminConfig(t)
	protoCfg.ContentType = "application/vnd.kubernetes.protobuf"
	proto := kubernetes.NewForConfigOrDie(protoCfg)
	rc := admin.CoreV1().RESTClient()
	w, err := pods.Watch(bg, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	tableWatch, err := rc.Get().Namespace("default").Resource("pods").Param("watch", "true").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").Stream(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer tableWatch.Close()
	go func() { // drain: the table watch encodes every event
		buf := make([]byte, 4096)
		for {
			if _, err := tableWatch.Read(buf); err != nil {
				return
			}
		}
	}()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	read := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := f(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	read(func() error { _, err := pods.List(bg, metav1.ListOptions{}); return err })
	read(func() error {
		_, err := proto.CoreV1().Pods("").List(bg, metav1.ListOptions{ResourceVersion: "0"})
		return err
	})
	read(func() error {
		_, err := rc.Get().Namespace("default").Resource("pods").
			SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(bg)
		return err
	})
	for i := range 12 {
		name := fmt.Sprint("p", i)
		patch := fmt.Sprintf(`{"metadata":{"labels":{"round":"%d"}}}`, i)
		patched, err := pods.Patch(bg, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		list, err := pods.List(bg, metav1.ListOptions{LabelSelector: fmt.Sprint("round=", i)})
		if err != nil || len(list.Items) != 1 || list.Items[0].ResourceVersion != patched.ResourceVersion {
			t.Fatalf("list right after a write: %v %+v", err, list)
		}
	}
	close(stop)
	wg.Wait()
	for i := range 3 {
		node := fmt.Sprint("n", i)
		own, err := ts.node(t, node).CoreV1().Pods("").List(bg, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
		if err != nil {
			t.Fatal(err)
		}
		all, err := pods.List(bg, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var want []corev1.Pod
		for _, p := range all.Items {
			if p.Spec.NodeName == node {
				want = append(want, p)
			}
		}
		if got, exp := podNames(own.Items), podNames(want); !slices.Equal(got, exp) {
			t.Fatalf("node %s lists %v, want %v", node, got, exp)
		}
	}
	deadline := time.After(10 * time.Second)
	for seen := 0; seen < 12+12; seen++ { // the initial ADDED, then the patches
		select {
		case _, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch ended")
			}
		case <-deadline:
			t.Fatalf("the watch got %d of 24 events", seen)
		}
	}
}

// --watch-cache=false (NoWatchCache): every read goes to etcd, and works.
func TestWatchCacheOff(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), 0, func(c *Config) { c.NoWatchCache = true })
	if ts.podStoreCached(t) {
		t.Fatal("NoWatchCache: pods still have a watch cache")
	}
	pods := ts.admin(t).CoreV1().Pods("default")
	if _, err := pods.Create(bg, testPod("a"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	list, err := pods.List(bg, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v %+v", err, list)
	}
}

// Custom resources are served from a watch cache too; a definition that
// does not change keeps its store (and cache) when another one comes.
func TestWatchCacheServesCustomResources(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	createEstablished(t, ts, widgetCRD())
	widgets := ts.dynamic(t).Resource(widgetsV1).Namespace("default")
	storeNow := func() *storage.Store {
		r, ok := ts.srv.lookup("example.com", "v1", "widgets")
		if !ok {
			t.Fatal("widgets not served")
		}
		return ts.srv.store(r)
	}
	before := storeNow()
	if !before.Cached() {
		t.Fatal("widgets are not served from a watch cache")
	}
	for _, name := range []string{"a", "b"} {
		if _, err := widgets.Create(bg, widget(name, map[string]any{"replicas": int64(1)}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		list, err := widgets.List(bg, metav1.ListOptions{})
		if err != nil || len(list.Items) == 0 || list.Items[len(list.Items)-1].GetName() != name {
			t.Fatalf("list right after creating %s: %v %v", name, err, list)
		}
		if v := list.Items[0].GetAPIVersion(); v != "example.com/v1" {
			t.Fatalf("apiVersion %q", v)
		}
	}
	gadgets := widgetCRD()
	gadgets.Name, gadgets.Spec.Names = "gadgets.example.com", apiextensionsv1.CustomResourceDefinitionNames{Plural: "gadgets", Singular: "gadget", Kind: "Gadget"}
	createEstablished(t, ts, gadgets)
	if storeNow() != before {
		t.Fatal("another definition's arrival replaced the widgets' store and cache")
	}
}
