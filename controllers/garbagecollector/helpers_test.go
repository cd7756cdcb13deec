package garbagecollector

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
)

var (
	cmGVR  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	nsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	pvGVR  = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumes"}
	allOps = metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
)

// served is the discovery the tests' fake server answers.
func served() []*metav1.APIResourceList {
	return []*metav1.APIResourceList{{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: allOps},
		{Name: "namespaces", Namespaced: false, Kind: "Namespace", Verbs: allOps},
		{Name: "persistentvolumes", Namespaced: false, Kind: "PersistentVolume", Verbs: allOps},
		{Name: "events", Namespaced: true, Kind: "Event", Verbs: allOps},
		{Name: "pods/status", Namespaced: true, Kind: "Pod", Verbs: metav1.Verbs{"get", "patch", "update"}},
		{Name: "bindings", Namespaced: true, Kind: "Binding", Verbs: metav1.Verbs{"create"}},
	}}}
}

type fixture struct {
	c        *Controller
	dyn      *dynamicfake.FakeDynamicClient
	recorder *record.FakeRecorder
	clock    *clocktesting.FakeClock
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		cmGVR: "ConfigMapList", nsGVR: "NamespaceList", pvGVR: "PersistentVolumeList",
		{Version: "v1", Resource: "events"}: "EventList",
	}, objs...)
	disc := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: served()}}
	rec := record.NewFakeRecorder(10)
	clk := clocktesting.NewFakeClock(time.Now())
	c := New(dyn, nil, disc, rec, slog.New(slog.NewTextHandler(io.Discard, nil)), clk, Config{})
	res, err := discover(disc)
	if err != nil {
		t.Fatal(err)
	}
	c.res = res
	t.Cleanup(c.queue.ShutDown)
	return &fixture{c: c, dyn: dyn, recorder: rec, clock: clk}
}

// object is a ConfigMap (namespaced) or, with ns "", a PersistentVolume.
func object(ns, name string, uid types.UID, owners ...metav1.OwnerReference) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	if ns == "" {
		u.SetAPIVersion("v1")
		u.SetKind("PersistentVolume")
	} else {
		u.SetAPIVersion("v1")
		u.SetKind("ConfigMap")
		u.SetNamespace(ns)
	}
	u.SetName(name)
	u.SetUID(uid)
	u.SetResourceVersion("1")
	u.SetOwnerReferences(owners)
	return u
}

func deleting(u *unstructured.Unstructured, finalizers ...string) *unstructured.Unstructured {
	now := metav1.Now()
	u.SetDeletionTimestamp(&now)
	u.SetFinalizers(finalizers)
	return u
}

func ownerRef(name string, uid types.UID, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: name, UID: uid, BlockOwnerDeletion: &block}
}

func (f *fixture) res(u *unstructured.Unstructured) resource {
	gk := u.GroupVersionKind().GroupKind()
	return f.c.res[gk]
}

// see feeds objects to the controller as its informers would.
func (f *fixture) see(objs ...*unstructured.Unstructured) {
	for _, u := range objs {
		f.c.observe(f.res(u), u)
	}
}

// drain syncs every queued key until the queue is empty, failing on an error.
func (f *fixture) drain(t *testing.T) {
	t.Helper()
	for f.c.queue.Len() > 0 {
		uid, _ := f.c.queue.Get()
		if err := f.c.sync(context.Background(), uid); err != nil {
			t.Fatalf("sync %s: %v", uid, err)
		}
		f.c.queue.Done(uid)
		f.c.queue.Forget(uid)
	}
}

// writes are the fake's delete and patch actions, in order.
func (f *fixture) writes() []clienttesting.Action {
	var out []clienttesting.Action
	for _, a := range f.dyn.Actions() {
		if a.GetVerb() == "delete" || a.GetVerb() == "patch" {
			out = append(out, a)
		}
	}
	return out
}

// deleted is the names deleted, each with the policy it was given.
func (f *fixture) deleted() map[string]metav1.DeletionPropagation {
	out := map[string]metav1.DeletionPropagation{}
	for _, a := range f.writes() {
		if d, ok := a.(clienttesting.DeleteActionImpl); ok {
			p := metav1.DeletionPropagation("")
			if d.DeleteOptions.PropagationPolicy != nil {
				p = *d.DeleteOptions.PropagationPolicy
			}
			out[d.Name] = p
		}
	}
	return out
}

// patched is the names patched, each with its last patch.
func (f *fixture) patched() map[string]string {
	out := map[string]string{}
	for _, a := range f.writes() {
		if p, ok := a.(clienttesting.PatchActionImpl); ok {
			out[p.Name] = string(p.Patch)
		}
	}
	return out
}

func (f *fixture) get(t *testing.T, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := f.dyn.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s/%s: %v", ns, name, err)
	}
	return u
}

func ownerUIDs(u *unstructured.Unstructured) []types.UID {
	var out []types.UID
	for _, r := range u.GetOwnerReferences() {
		out = append(out, r.UID)
	}
	slices.Sort(out)
	return out
}
