package storage

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

var backend *Backend

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "storage-test")
	if err != nil {
		panic(err)
	}
	backend, err = StartEmbedded(context.Background(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	backend.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newCM() runtime.Object { return &corev1.ConfigMap{} }

// testStore is a store of its own for the test; a test run under a name
// ending in /cached gets a store with a watch cache.
func testStore(t *testing.T) *Store {
	s := NewStore(backend.Client, uniquePrefix(t, ""), newCM)
	if strings.HasSuffix(t.Name(), "/cached") {
		startCache(t, s, CacheOptions{})
	}
	return s
}

func cm(ns, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "x"}},
		Data:       data,
	}
}

// uniquePrefix is a key prefix no other test, nor another run of this
// one (-count), uses.
func uniquePrefix(t *testing.T, name string) string {
	return fmt.Sprintf("/registry/%s%s-%d", name, t.Name(), time.Now().UnixNano())
}

func mustRV(t *testing.T, obj runtime.Object) int64 {
	t.Helper()
	rv, err := RV(obj)
	if err != nil || rv == 0 {
		t.Fatalf("object has no resourceVersion: %v", err)
	}
	return rv
}

func TestCreateGetDelete(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	created, err := s.Create(ctx, "ns1", "a", cm("ns1", "a", map[string]string{"k": "v"}))
	if err != nil {
		t.Fatal(err)
	}
	rv := mustRV(t, created)
	if _, err := s.Create(ctx, "ns1", "a", cm("ns1", "a", nil)); !IsExists(err) {
		t.Fatalf("second create: %v, want Exists", err)
	}
	got, err := s.Get(ctx, "ns1", "a")
	if err != nil {
		t.Fatal(err)
	}
	if g := got.(*corev1.ConfigMap); g.Data["k"] != "v" || mustRV(t, g) != rv || g.Kind != "ConfigMap" {
		t.Fatalf("got %+v rv %d, want data k=v and rv %d", g, mustRV(t, g), rv)
	}
	if _, err := s.Get(ctx, "ns2", "a"); !IsNotFound(err) {
		t.Fatalf("get in another namespace: %v, want NotFound", err)
	}
	refuse := fmt.Errorf("refused")
	if _, err := s.Delete(ctx, "ns1", "a", func(runtime.Object) error { return refuse }); err != refuse {
		t.Fatalf("delete with failing precondition: %v", err)
	}
	deleted, err := s.Delete(ctx, "ns1", "a", nil)
	if err != nil || mustRV(t, deleted) <= rv {
		t.Fatalf("delete: %v; rv %d should be after %d", err, mustRV(t, deleted), rv)
	}
	if _, err := s.Get(ctx, "ns1", "a"); !IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestUpdateIsCompareAndSwap(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	created, _ := s.Create(ctx, "ns", "c", cm("ns", "c", map[string]string{"n": "0"}))
	staleRV := mustRV(t, created)

	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Update(ctx, "ns", "c", func(cur runtime.Object) (runtime.Object, error) {
				c := cur.(*corev1.ConfigMap)
				var n int
				fmt.Sscan(c.Data["n"], &n)
				c.Data["n"] = fmt.Sprint(n + 1)
				return c, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := s.Get(ctx, "ns", "c")
	if n := got.(*corev1.ConfigMap).Data["n"]; n != "10" {
		t.Fatalf("10 concurrent increments gave %s: an update was lost", n)
	}

	// A caller that insists on the version it read gets a conflict.
	_, err := s.Update(ctx, "ns", "c", func(cur runtime.Object) (runtime.Object, error) {
		if rv, _ := RV(cur); rv != staleRV {
			return nil, newError(Conflict, "c", "stale")
		}
		return cur, nil
	})
	if !IsConflict(err) {
		t.Fatalf("update from a stale version: %v, want Conflict", err)
	}
	if _, err := s.Update(ctx, "ns", "missing", func(c runtime.Object) (runtime.Object, error) { return c, nil }); !IsNotFound(err) {
		t.Fatalf("update of a missing object: %v", err)
	}
}

func names(objs []runtime.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.(*corev1.ConfigMap).Name)
	}
	return out
}

func TestListPagesAreConsistentAndFiltered(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	for i := 0; i < 7; i++ {
		c := cm("ns", fmt.Sprintf("cm%d", i), nil)
		if i%2 == 1 {
			c.Labels["app"] = "odd"
		}
		s.Create(ctx, "ns", c.Name, c)
	}
	s.Create(ctx, "other", "cmx", cm("other", "cmx", nil))

	all, err := s.List(ctx, "", ListOptions{})
	if err != nil || len(all.Items) != 8 {
		t.Fatalf("list all: %d items, %v", len(all.Items), err)
	}
	even := func(o runtime.Object) bool { return o.(*corev1.ConfigMap).Labels["app"] == "x" }
	page1, err := s.List(ctx, "ns", ListOptions{Limit: 2, Match: even})
	if err != nil || fmt.Sprint(names(page1.Items)) != "[cm0 cm2]" || page1.Continue == "" {
		t.Fatalf("page 1: %v %q %v", names(page1.Items), page1.Continue, err)
	}
	// A change between pages is not seen: the list is read at one revision.
	s.Delete(ctx, "ns", "cm4", nil)
	page2, err := s.List(ctx, "ns", ListOptions{Limit: 2, Match: even, Continue: page1.Continue})
	if err != nil || fmt.Sprint(names(page2.Items)) != "[cm4 cm6]" || page2.Revision != page1.Revision {
		t.Fatalf("page 2: %v rev %d (page 1 rev %d) %v", names(page2.Items), page2.Revision, page1.Revision, err)
	}
	if page2.Continue != "" {
		page3, _ := s.List(ctx, "ns", ListOptions{Limit: 2, Match: even, Continue: page2.Continue})
		if len(page3.Items) != 0 || page3.Continue != "" {
			t.Fatalf("page 3: %v %q", names(page3.Items), page3.Continue)
		}
	}
	if _, err := s.List(ctx, "ns", ListOptions{Continue: "garbage"}); !IsInvalidToken(err) {
		t.Fatalf("bad token: %v", err)
	}
	if _, err := s.List(ctx, "other", ListOptions{Continue: page1.Continue}); !IsInvalidToken(err) {
		t.Fatalf("token of another namespace: %v", err)
	}
}

func next(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case e, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return watch.Event{}
}

func eventString(e watch.Event) string {
	if c, ok := e.Object.(*corev1.ConfigMap); ok {
		return fmt.Sprintf("%s %s", e.Type, c.Name)
	}
	return string(e.Type)
}

func TestWatchFromRevisionWithSelectorTransitions(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	first, _ := s.Create(ctx, "ns", "before", cm("ns", "before", nil))
	match := func(o runtime.Object) bool { return o.(*corev1.ConfigMap).Labels["app"] == "x" }
	w, err := s.Watch(ctx, "ns", WatchOptions{Revision: mustRV(t, first), Match: match}, WatchLimits{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	s.Create(ctx, "ns", "a", cm("ns", "a", nil))
	s.Create(ctx, "other", "b", cm("other", "b", nil))
	relabel := func(v string) {
		s.Update(ctx, "ns", "a", func(c runtime.Object) (runtime.Object, error) {
			c.(*corev1.ConfigMap).Labels["app"] = v
			return c, nil
		})
	}
	relabel("y") // leaves the selection
	relabel("z") // still out: no event
	relabel("x") // back in
	s.Delete(ctx, "ns", "a", nil)
	want := []string{"ADDED a", "DELETED a", "ADDED a", "DELETED a"}
	for i, exp := range want {
		if got := eventString(next(t, w)); got != exp {
			t.Fatalf("event %d = %s, want %s", i, got, exp)
		}
	}
}

func TestWatchInitialEventsAndBookmark(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	s.Create(ctx, "ns", "a", cm("ns", "a", nil))
	s.Create(ctx, "ns", "b", cm("ns", "b", nil))
	w, err := s.Watch(ctx, "ns", WatchOptions{SendInitialEvents: true, Bookmarks: true}, WatchLimits{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if a, b := eventString(next(t, w)), eventString(next(t, w)); a != "ADDED a" || b != "ADDED b" {
		t.Fatalf("initial events %s, %s", a, b)
	}
	bm := next(t, w)
	if bm.Type != watch.Bookmark || bm.Object.(*corev1.ConfigMap).Annotations[InitialEventsEndAnnotation] != "true" {
		t.Fatalf("want the initial-events-end bookmark, got %s %+v", bm.Type, bm.Object)
	}
	s.Create(ctx, "ns", "c", cm("ns", "c", nil))
	if got := eventString(next(t, w)); got != "ADDED c" {
		t.Fatalf("after the bookmark: %s", got)
	}
}

func TestWatchCompactedIsExpired(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	old, _ := s.Create(ctx, "ns", "a", cm("ns", "a", nil))
	c := NewCompactor(backend.Client, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, name := range []string{"b", "c", "d"} {
		if err := c.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		s.Create(ctx, "ns", name, cm("ns", name, nil))
	}
	c.Tick(ctx) // history now starts after "b"
	w, err := s.Watch(ctx, "ns", WatchOptions{Revision: mustRV(t, old)}, WatchLimits{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	e := next(t, w)
	if st, ok := e.Object.(*metav1.Status); e.Type != watch.Error || !ok || st.Code != 410 {
		t.Fatalf("watch from a compacted revision: %s %+v, want ERROR 410", e.Type, e.Object)
	}
	if _, err := s.List(ctx, "ns", ListOptions{Revision: mustRV(t, old)}); !IsExpired(err) {
		t.Fatalf("list at a compacted revision: %v, want Expired", err)
	}
}

func TestSlowWatcherIsDropped(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	w, err := s.Watch(ctx, "ns", WatchOptions{Revision: 1}, WatchLimits{Buffer: 2, SlowTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for i := 0; i < 5; i++ {
		s.Create(ctx, "ns", fmt.Sprint("x", i), cm("ns", fmt.Sprint("x", i), nil))
	}
	// Nobody reads until the buffer has been full for SlowTimeout: the watch
	// must end by itself rather than buffer forever.
	waitForClose(t, w)
	deadline := time.After(10 * time.Second)
	for n := 0; ; n++ {
		select {
		case _, ok := <-w.ResultChan():
			if !ok {
				if n >= 5 {
					t.Fatalf("all %d events were delivered; the watch should have been dropped", n)
				}
				return
			}
		case <-deadline:
			t.Fatal("a watch that nobody reads stayed open")
		}
	}
}

// waitForClose waits until the watcher has stopped (its done channel closes).
func waitForClose(t *testing.T, w watch.Interface) {
	t.Helper()
	select {
	case <-w.(*watcher).done:
	case <-time.After(10 * time.Second):
		t.Fatal("a watch that nobody reads stayed open")
	}
}

// TestNoOpUpdateWritesNothing: an update that changes nothing keeps the
// resourceVersion and sends no watch event, as kube-apiserver does (a
// client that writes an unchanged status must not wake its own informer).
func TestNoOpUpdateWritesNothing(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	created, _ := s.Create(ctx, "ns", "same", cm("ns", "same", map[string]string{"k": "v"}))
	rv := mustRV(t, created)
	w, err := s.Watch(ctx, "ns", WatchOptions{Revision: rv}, WatchLimits{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	out, err := s.Update(ctx, "ns", "same", func(cur runtime.Object) (runtime.Object, error) { return cur, nil })
	if err != nil || mustRV(t, out) != rv {
		t.Fatalf("no-op update: rv %d -> %v, %v", rv, out, err)
	}
	out, err = s.Update(ctx, "ns", "same", func(cur runtime.Object) (runtime.Object, error) {
		cur.(*corev1.ConfigMap).Data["k"] = "w"
		return cur, nil
	})
	if err != nil || mustRV(t, out) == rv {
		t.Fatalf("a real update must write: %v, %v", out, err)
	}
	if e := next(t, w); e.Type != watch.Modified || e.Object.(*corev1.ConfigMap).Data["k"] != "w" {
		t.Fatalf("the first event must be the real update, got %s", eventString(e))
	}
}
