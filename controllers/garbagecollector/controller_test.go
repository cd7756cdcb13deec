package garbagecollector

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

// Discovery: every top-level resource is known for owner lookups; only
// those that can be listed, watched and deleted are watched, never events.
func TestDiscoverWatchesListWatchDeleteResources(t *testing.T) {
	f := newFixture(t)
	var watched []string
	for _, r := range f.c.res {
		if r.watch {
			watched = append(watched, r.gvr.Resource)
		}
	}
	slices.Sort(watched)
	if want := []string{"configmaps", "namespaces", "persistentvolumes"}; !slices.Equal(watched, want) {
		t.Fatalf("watched %v, want %v", watched, want)
	}
	if _, ok := f.c.res[schema.GroupKind{Kind: "Binding"}]; ok {
		t.Fatal("a resource that cannot be read resolves owners")
	}
	if r, ok := f.c.res[schema.GroupKind{Kind: "Event"}]; !ok || r.watch {
		t.Fatalf("events: %+v %v, want known, not watched", r, ok)
	}
}

// A dependent whose only owner is gone is deleted in the background, with
// its UID and resourceVersion as preconditions.
func TestDependentOfAbsentOwnerIsDeleted(t *testing.T) {
	dep := object("default", "dep", "dep-uid", ownerRef("owner", "owner-uid", false))
	f := newFixture(t, dep)
	f.see(dep)
	f.drain(t)
	if got := f.deleted(); !maps.Equal(got, map[string]metav1.DeletionPropagation{"dep": metav1.DeletePropagationBackground}) {
		t.Fatalf("deleted %v, want dep in the background", got)
	}
	d := f.writes()[0].(clienttesting.DeleteActionImpl)
	if p := d.DeleteOptions.Preconditions; p == nil || *p.UID != "dep-uid" || *p.ResourceVersion != "1" {
		t.Fatalf("preconditions %+v", p)
	}
}

// A same-named owner with another UID is another object: the dependent
// goes. The same UID keeps it.
func TestOwnerIsMatchedByUID(t *testing.T) {
	owner := object("default", "owner", "new-uid")
	stale := object("default", "stale", "stale-uid", ownerRef("owner", "old-uid", true))
	kept := object("default", "kept", "kept-uid", ownerRef("owner", "new-uid", true))
	f := newFixture(t, owner, stale, kept)
	f.see(owner, stale, kept)
	f.c.queue.Add("kept-uid") // not suspect: looked at all the same
	f.drain(t)
	if got := f.deleted(); !maps.Equal(got, map[string]metav1.DeletionPropagation{"stale": metav1.DeletePropagationBackground}) {
		t.Fatalf("deleted %v, want only stale", got)
	}
}

// With one owner left, the references to the absent ones are removed and
// the dependent stays.
func TestAbsentOwnerRefRemovedWhileAnotherRemains(t *testing.T) {
	owner := object("default", "a", "a-uid")
	dep := object("default", "dep", "dep-uid", ownerRef("a", "a-uid", false), ownerRef("b", "b-uid", false))
	f := newFixture(t, owner, dep)
	f.see(owner, dep)
	f.drain(t)
	if len(f.deleted()) != 0 {
		t.Fatalf("deleted %v", f.deleted())
	}
	if got := ownerUIDs(f.get(t, cmGVR, "default", "dep")); !slices.Equal(got, []types.UID{"a-uid"}) {
		t.Fatalf("owners %v, want [a-uid]", got)
	}
}

// Until a live GET says the owner is absent, nothing is deleted: an owner
// the informers have not shown yet is there.
func TestOwnerNotInGraphIsVerifiedLive(t *testing.T) {
	owner := object("default", "owner", "owner-uid")
	dep := object("default", "dep", "dep-uid", ownerRef("owner", "owner-uid", true))
	f := newFixture(t, owner, dep)
	f.see(dep) // the owner's informer has not caught up
	if f.c.queue.Len() != 1 {
		t.Fatalf("queued %d, want the dependent", f.c.queue.Len())
	}
	f.drain(t)
	if len(f.writes()) != 0 {
		t.Fatalf("wrote %v", f.writes())
	}
}

// Foreground: the owner's dependents are deleted, in the foreground the
// one with dependents of its own; the owner's finalizer goes once no
// blocking dependent is left, and not before.
func TestForegroundDeletion(t *testing.T) {
	owner := deleting(object("default", "owner", "owner-uid"), metav1.FinalizerDeleteDependents)
	mid := object("default", "mid", "mid-uid", ownerRef("owner", "owner-uid", true))
	leaf := object("default", "leaf", "leaf-uid", ownerRef("mid", "mid-uid", true))
	loose := object("default", "loose", "loose-uid", ownerRef("owner", "owner-uid", false))
	f := newFixture(t, owner, mid, leaf, loose)
	f.see(mid, leaf, loose, owner)
	f.drain(t)
	want := map[string]metav1.DeletionPropagation{"mid": metav1.DeletePropagationForeground, "loose": metav1.DeletePropagationBackground}
	if got := f.deleted(); !maps.Equal(got, want) {
		t.Fatalf("deleted %v, want %v", got, want)
	}
	if _, ok := f.patched()["owner"]; ok {
		t.Fatal("the owner was released while a blocking dependent is left")
	}
	// The API server marks mid (foreground) and later removes it; loose
	// (not blocking) does not hold the owner.
	f.c.forget(loose)
	f.drain(t)
	if _, ok := f.patched()["owner"]; ok {
		t.Fatal("released with mid left")
	}
	f.c.forget(mid)
	f.drain(t)
	if p := f.patched()["owner"]; !strings.Contains(p, `"finalizers":[]`) {
		t.Fatalf("owner patch %q, want its finalizer removed", p)
	}
}

// Orphan: every dependent's reference to the owner is removed, then the
// owner's orphan finalizer; the dependents stay.
func TestOrphanDependents(t *testing.T) {
	owner := deleting(object("default", "owner", "owner-uid"), metav1.FinalizerOrphanDependents, "example.com/keep")
	other := object("default", "other", "other-uid")
	d1 := object("default", "d1", "d1-uid", ownerRef("owner", "owner-uid", true))
	d2 := object("default", "d2", "d2-uid", ownerRef("owner", "owner-uid", true), ownerRef("other", "other-uid", false))
	f := newFixture(t, owner, other, d1, d2)
	f.see(other, d1, d2, owner)
	f.drain(t)
	if len(f.deleted()) != 0 {
		t.Fatalf("deleted %v", f.deleted())
	}
	if got := ownerUIDs(f.get(t, cmGVR, "default", "d1")); len(got) != 0 {
		t.Fatalf("d1 owners %v", got)
	}
	if got := ownerUIDs(f.get(t, cmGVR, "default", "d2")); !slices.Equal(got, []types.UID{"other-uid"}) {
		t.Fatalf("d2 owners %v", got)
	}
	if fin := f.get(t, cmGVR, "default", "owner").GetFinalizers(); !slices.Equal(fin, []string{"example.com/keep"}) {
		t.Fatalf("owner finalizers %v", fin)
	}
	// The owner's finalizer is removed after the dependents' references.
	var order []string
	for _, a := range f.writes() {
		order = append(order, a.(clienttesting.PatchActionImpl).Name)
	}
	if len(order) != 3 || order[2] != "owner" {
		t.Fatalf("patch order %v", order)
	}
}

// A namespaced dependent whose owner UID is seen in another namespace:
// kube's OwnerRefInvalidNamespace event, and the owner is absent once the
// GET in the dependent's namespace says so.
func TestOwnerInOtherNamespace(t *testing.T) {
	for _, order := range []string{"owner first", "dependent first"} {
		t.Run(order, func(t *testing.T) {
			owner := object("a", "owner", "owner-uid")
			dep := object("b", "dep", "dep-uid", ownerRef("owner", "owner-uid", true))
			f := newFixture(t, owner, dep)
			if order == "owner first" {
				f.see(owner, dep)
			} else {
				f.see(dep, owner)
			}
			select {
			case e := <-f.recorder.Events:
				want := `Warning OwnerRefInvalidNamespace ownerRef [v1/ConfigMap, namespace: b, name: owner, uid: owner-uid] does not exist in namespace "b"`
				if e != want {
					t.Fatalf("event %q\nwant  %q", e, want)
				}
			default:
				t.Fatal("no event")
			}
			f.drain(t)
			if got := f.deleted(); !maps.Equal(got, map[string]metav1.DeletionPropagation{"dep": metav1.DeletePropagationBackground}) {
				t.Fatalf("deleted %v", got)
			}
		})
	}
}

// A cluster-scoped object naming a namespaced owner is left alone.
func TestClusterScopedDependentOfNamespacedOwnerIsKept(t *testing.T) {
	dep := object("", "pv", "pv-uid", ownerRef("owner", "owner-uid", true))
	f := newFixture(t, dep)
	f.see(dep)
	f.drain(t)
	if len(f.writes()) != 0 {
		t.Fatalf("wrote %v", f.writes())
	}
}

// An owner deleted while its dependents are watched: they are collected.
// Then the whole controller against the fake: informers, discovery, Run.
func TestRunCollectsDependentsOfDeletedOwner(t *testing.T) {
	owner := object("default", "owner", "owner-uid")
	dep := object("default", "dep", "dep-uid", ownerRef("owner", "owner-uid", true))
	kept := object("default", "kept", "kept-uid")
	kept.Object["data"] = map[string]any{"big": strings.Repeat("x", 1<<10)}
	kept.SetAnnotations(map[string]string{"a": "b"})
	f := newFixture(t, []runtime.Object{owner, dep, kept}...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return f.c.synced() && f.c.graph.get("dep-uid") != nil && f.c.graph.get("owner-uid") != nil, nil
	}); err != nil {
		t.Fatalf("graph never held the objects: %v", err)
	}
	// The caches keep metadata only.
	cached, _, _ := f.c.watched[cmGVR].GetStore().GetByKey("default/kept")
	if m, ok := cached.(*metav1.PartialObjectMetadata); !ok || m.Annotations != nil || m.UID != "kept-uid" || m.Name != "kept" || m.Kind != "ConfigMap" {
		t.Fatalf("cached %#v", cached)
	}
	if err := f.dyn.Resource(cmGVR).Namespace("default").Delete(ctx, "owner", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := f.dyn.Resource(cmGVR).Namespace("default").Get(ctx, "dep", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Fatalf("dependent not collected: %v", err)
	}
	f.get(t, cmGVR, "default", "kept")
}

// A dependent deleted for a foreground owner while one of its own
// dependents is also deleting in the foreground (a possible cycle): its
// references stop blocking first, then it is deleted in the foreground.
func TestForegroundCycleUnblocksOwnerRefsFirst(t *testing.T) {
	owner := deleting(object("default", "owner", "owner-uid"), metav1.FinalizerDeleteDependents)
	mid := object("default", "mid", "mid-uid", ownerRef("owner", "owner-uid", true))
	leaf := deleting(object("default", "leaf", "leaf-uid", ownerRef("mid", "mid-uid", true)), metav1.FinalizerDeleteDependents)
	f := newFixture(t, owner, mid, leaf)
	f.see(mid, leaf, owner)
	f.c.queue.Add("mid-uid")
	f.drain(t)
	var order []string
	for _, a := range f.writes() {
		switch a := a.(type) {
		case clienttesting.PatchActionImpl:
			order = append(order, "patch "+a.Name)
		case clienttesting.DeleteActionImpl:
			order = append(order, "delete "+a.Name+" "+string(*a.DeleteOptions.PropagationPolicy))
		}
	}
	if i := slices.Index(order, "patch mid"); i < 0 || i+1 >= len(order) || order[i+1] != "delete mid Foreground" {
		t.Fatalf("writes %v, want mid unblocked then deleted in the foreground", order)
	}
	if !strings.Contains(f.patched()["mid"], `"blockOwnerDeletion":false`) {
		t.Fatalf("mid patch %s", f.patched()["mid"])
	}
}

// What a metadata informer brings (PartialObjectMetadata, labels,
// annotations and managedFields included) is cut to what the collector
// reads, as an unstructured object is; other things pass through.
func TestMetadataOnlyKeepsWhatTheCollectorReads(t *testing.T) {
	now := metav1.Now()
	owners := []metav1.OwnerReference{ownerRef("owner", "owner-uid", true)}
	in := &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p", UID: "p-uid", ResourceVersion: "7",
			Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "b"},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
			OwnerReferences: owners, Finalizers: []string{"f"}, DeletionTimestamp: &now},
	}
	for _, obj := range []any{in, object("default", "p", "p-uid", owners...)} {
		out, err := metadataOnly(obj)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := out.(*metav1.PartialObjectMetadata)
		if !ok || m == obj {
			t.Fatalf("%T: got %T, want a new PartialObjectMetadata", obj, out)
		}
		if m.Name != "p" || m.Namespace != "default" || m.UID != "p-uid" || m.APIVersion != "v1" ||
			len(m.OwnerReferences) != 1 || m.OwnerReferences[0].UID != "owner-uid" {
			t.Errorf("%T: identity or owners lost: %+v", obj, m)
		}
		if m.Labels != nil || m.Annotations != nil || m.ManagedFields != nil {
			t.Errorf("%T: kept labels %v, annotations %v, managedFields %v", obj, m.Labels, m.Annotations, m.ManagedFields)
		}
	}
	out, err := metadataOnly(in)
	if m := out.(*metav1.PartialObjectMetadata); err != nil || m.Kind != "Pod" || m.ResourceVersion != "7" ||
		!slices.Equal(m.Finalizers, []string{"f"}) || m.DeletionTimestamp == nil {
		t.Errorf("deletion state or version lost: %+v", out)
	}
	tomb := cache.DeletedFinalStateUnknown{Key: "default/p", Obj: in}
	if out, _ := metadataOnly(tomb); out != any(tomb) {
		t.Errorf("a tombstone became %T", out)
	}
}
