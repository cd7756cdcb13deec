package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

func startCache(t *testing.T, s *Store, opts CacheOptions) *cacher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := s.StartCache(ctx, opts); err != nil {
		t.Fatal(err)
	}
	return s.cache.Load()
}

// The store's behaviour is the same with a watch cache.
func TestStoreBehaviourWithCache(t *testing.T) {
	for name, f := range map[string]func(*testing.T){
		"ListPagesAreConsistentAndFiltered":        TestListPagesAreConsistentAndFiltered,
		"WatchFromRevisionWithSelectorTransitions": TestWatchFromRevisionWithSelectorTransitions,
		"WatchInitialEventsAndBookmark":            TestWatchInitialEventsAndBookmark,
		"WatchSendsBookmarks":                      TestWatchSendsBookmarks,
		"NoOpUpdateWritesNothing":                  TestNoOpUpdateWritesNothing,
		"CreateGetDelete":                          TestCreateGetDelete,
		"UpdateIsCompareAndSwap":                   TestUpdateIsCompareAndSwap,
	} {
		t.Run(name+"/cached", f)
	}
}

// A list right after a write sees the write (read-your-writes), and the
// cache served it.
func TestCacheListSeesEveryWrite(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	startCache(t, s, CacheOptions{})
	for i := range 30 {
		name := fmt.Sprint("cm", i)
		created, err := s.Create(ctx, "ns", name, cm("ns", name, nil))
		if err != nil {
			t.Fatal(err)
		}
		page, err := s.List(ctx, "ns", ListOptions{})
		if err != nil || len(page.Items) != i+1 || page.Revision < mustRV(t, created) {
			t.Fatalf("list after create %d: %d items at %d, %v", i, len(page.Items), page.Revision, err)
		}
		if i%3 == 0 {
			s.Delete(ctx, "ns", name, nil)
			page, _ = s.List(ctx, "ns", ListOptions{})
			if slices.Contains(names(page.Items), name) {
				t.Fatalf("list after delete still has %s", name)
			}
			s.Create(ctx, "ns", name, cm("ns", name, nil))
		}
	}
}

// A type nothing writes learns through etcd progress notifications that
// it is current: its consistent list does not wait for the fallback.
func TestCacheQuietTypeListsPromptly(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	s.Create(ctx, "ns", "a", cm("ns", "a", nil))
	startCache(t, s, CacheOptions{})
	other := NewStore(backend.Client, uniquePrefix(t, "other-"), newCM)
	for i := range 5 {
		written, err := other.Create(ctx, "ns", fmt.Sprint("b", i), cm("ns", "b", nil))
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		page, err := s.List(ctx, "ns", ListOptions{})
		if err != nil || page.Revision < mustRV(t, written) || len(page.Items) != 1 {
			t.Fatalf("list: %d items at %d (want at least %d), %v", len(page.Items), page.Revision, mustRV(t, written), err)
		}
		if d := time.Since(began); d > freshTimeout/2 {
			t.Fatalf("a list of a quiet type took %v: the cache did not learn it was current", d)
		}
	}
}

// resourceVersion=N waits for the cache to reach N, and fails with Too
// large resource version when nothing gets there.
func TestCacheNotOlderThanWaits(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	c := startCache(t, s, CacheOptions{})
	cur, _ := s.CurrentRevision(ctx)
	got := make(chan error, 1)
	go func() {
		page, err := s.List(ctx, "ns", ListOptions{MinRevision: cur + 1})
		if err == nil && (page.Revision < cur+1 || len(page.Items) != 1) {
			err = fmt.Errorf("%d items at %d", len(page.Items), page.Revision)
		}
		got <- err
	}()
	s.Create(ctx, "ns", "a", cm("ns", "a", nil))
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	rev, _ := c.current()
	if _, err := s.List(ctx, "ns", ListOptions{MinRevision: rev + 1000}); !IsTooLargeRV(err) {
		t.Fatalf("list at a revision nobody writes: %v, want Too large resource version", err)
	}
	page, err := s.List(ctx, "ns", ListOptions{AnyRevision: true})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("resourceVersion=0: %d items, %v", len(page.Items), err)
	}
}

func newPod() runtime.Object { return &corev1.Pod{} }

func pod(ns, name, node string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       corev1.PodSpec{NodeName: node},
	}
}

// Lists read through the indexes give what a filter over every object in
// etcd gives, whatever the writes.
func TestCacheIndexesAgreeWithEtcd(t *testing.T) {
	ctx := context.Background()
	prefix := uniquePrefix(t, "")
	direct := NewStore(backend.Client, prefix, newPod)
	cachedStore := NewStore(backend.Client, prefix, newPod)
	startCache(t, cachedStore, CacheOptions{Indexes: map[string]IndexFunc{
		"spec.nodeName": func(o runtime.Object) string { return o.(*corev1.Pod).Spec.NodeName },
	}})
	rnd := rand.New(rand.NewPCG(1, 2))
	nodes, apps, nss := []string{"", "n1", "n2", "n3"}, []string{"web", "db", "cache"}, []string{"a", "b"}
	randomPod := func(name string) *corev1.Pod {
		labels := map[string]string{"app": apps[rnd.IntN(3)]}
		if rnd.IntN(2) == 0 {
			labels["tier"] = fmt.Sprint(rnd.IntN(2))
		}
		return pod(nss[rnd.IntN(2)], name, nodes[rnd.IntN(4)], labels)
	}
	for i := range 300 {
		p := randomPod(fmt.Sprint("p", rnd.IntN(120)))
		switch rnd.IntN(3) {
		case 0:
			direct.Create(ctx, p.Namespace, p.Name, p)
		case 1:
			direct.Update(ctx, p.Namespace, p.Name, func(runtime.Object) (runtime.Object, error) { return p, nil })
		case 2:
			direct.Delete(ctx, p.Namespace, p.Name, nil)
		}
		if i%30 != 0 {
			continue
		}
		for _, ns := range []string{"", "a"} {
			for _, node := range nodes {
				for _, app := range append(apps, "none") {
					match := func(o runtime.Object) bool {
						p := o.(*corev1.Pod)
						return p.Spec.NodeName == node && p.Labels["app"] == app
					}
					hints := Hints{Fields: map[string]string{"spec.nodeName": node}, Labels: map[string]string{"app": app}}
					want, err := direct.List(ctx, ns, ListOptions{Match: match})
					if err != nil {
						t.Fatal(err)
					}
					got, err := cachedStore.List(ctx, ns, ListOptions{Match: match, Hints: hints, MinRevision: want.Revision})
					if err != nil {
						t.Fatal(err)
					}
					if fmt.Sprint(keysOf(got.Items)) != fmt.Sprint(keysOf(want.Items)) {
						t.Fatalf("ns %q node %q app %s: cache %v, etcd %v", ns, node, app, keysOf(got.Items), keysOf(want.Items))
					}
				}
			}
		}
	}
}

func keysOf(objs []runtime.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		p := o.(*corev1.Pod)
		out[i] = p.Namespace + "/" + p.Name + "@" + p.ResourceVersion
	}
	return out
}

// A page of a cached list continues in etcd at the same revision.
func TestCachePageContinuesInEtcd(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	for i := range 5 {
		s.Create(ctx, "ns", fmt.Sprint("cm", i), cm("ns", fmt.Sprint("cm", i), nil))
	}
	startCache(t, s, CacheOptions{})
	page1, err := s.List(ctx, "ns", ListOptions{Limit: 3})
	if err != nil || fmt.Sprint(names(page1.Items)) != "[cm0 cm1 cm2]" || page1.Continue == "" {
		t.Fatalf("page 1: %v %q %v", names(page1.Items), page1.Continue, err)
	}
	s.Delete(ctx, "ns", "cm3", nil)
	page2, err := s.List(ctx, "ns", ListOptions{Limit: 3, Continue: page1.Continue})
	if err != nil || fmt.Sprint(names(page2.Items)) != "[cm3 cm4]" || page2.Continue != "" || page2.Revision != page1.Revision {
		t.Fatalf("page 2: %v %q rev %d/%d %v", names(page2.Items), page2.Continue, page2.Revision, page1.Revision, err)
	}
}

// Every watcher gets every event, in order, from the one etcd watch.
func TestCacheFansOutToEveryWatcher(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	first, _ := s.Create(ctx, "ns", "first", cm("ns", "first", nil))
	startCache(t, s, CacheOptions{})
	var ws []watch.Interface
	for range 20 {
		w, err := s.Watch(ctx, "ns", WatchOptions{Revision: mustRV(t, first)}, WatchLimits{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		ws = append(ws, w)
	}
	var want []string
	for i := range 50 {
		name := fmt.Sprint("cm", i)
		s.Create(ctx, "ns", name, cm("ns", name, nil))
		want = append(want, "ADDED "+name)
	}
	for i, w := range ws {
		for j, exp := range want {
			if got := eventString(next(t, w)); got != exp {
				t.Fatalf("watcher %d event %d = %s, want %s", i, j, got, exp)
			}
		}
	}
}

// A watcher that reads nothing is ended; the others get every event
// meanwhile.
func TestCacheSlowWatcherDoesNotDelayOthers(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	start, _ := s.Create(ctx, "ns", "first", cm("ns", "first", nil))
	startCache(t, s, CacheOptions{})
	slow, err := s.Watch(ctx, "ns", WatchOptions{Revision: mustRV(t, start)}, WatchLimits{Buffer: 2, SlowTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Stop()
	fast, err := s.Watch(ctx, "ns", WatchOptions{Revision: mustRV(t, start)}, WatchLimits{Buffer: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Stop()
	// The slow watcher waits an hour to hand over its third event; the
	// fast one must not wait with it.
	for i := range 10 {
		name := fmt.Sprint("cm", i)
		s.Create(ctx, "ns", name, cm("ns", name, nil))
		if got := eventString(next(t, fast)); got != "ADDED "+name {
			t.Fatalf("fast watcher: %s, want ADDED %s", got, name)
		}
	}
}

// A watcher that falls out of the window (it did not read while more
// events than the window holds came) is ended, and a watch from a
// revision before the window gets 410 too old resource version.
func TestCacheWindowEndsSlowWatchersAndRefusesOldRevisions(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	start, _ := s.Create(ctx, "ns", "first", cm("ns", "first", nil))
	startCache(t, s, CacheOptions{Window: 4})
	slow, err := s.Watch(ctx, "ns", WatchOptions{Revision: mustRV(t, start)}, WatchLimits{Buffer: 1, SlowTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Stop()
	for i := range 12 {
		name := fmt.Sprint("cm", i)
		s.Create(ctx, "ns", name, cm("ns", name, nil))
	}
	s.List(ctx, "ns", ListOptions{}) // the cache has seen every write
	w, err := s.Watch(ctx, "ns", WatchOptions{Revision: mustRV(t, start)}, WatchLimits{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	e := next(t, w)
	if st, ok := e.Object.(*metav1.Status); e.Type != watch.Error || !ok || st.Code != 410 || st.Reason != metav1.StatusReasonExpired {
		t.Fatalf("watch from before the window: %s %+v, want ERROR 410 Expired", e.Type, e.Object)
	}
	// The slow watcher took one event into its buffer; reading it lets it
	// try the next, which is gone: it ends.
	n := 0
	for range slow.ResultChan() {
		n++
	}
	if n >= 12 {
		t.Fatalf("the slow watcher got all %d events", n)
	}
}

// When the cache re-lists (its etcd watch failed, as after a compaction),
// its watchers end, and it serves again from the new state.
func TestCacheRelistEndsWatchers(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	old, _ := s.Create(ctx, "ns", "a", cm("ns", "a", nil))
	c := startCache(t, s, CacheOptions{})
	w, err := s.Watch(ctx, "ns", WatchOptions{Revision: mustRV(t, old)}, WatchLimits{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	s.Create(ctx, "ns", "b", cm("ns", "b", nil))
	if got := eventString(next(t, w)); got != "ADDED b" {
		t.Fatalf("before the re-list: %s", got)
	}
	// etcd's history before last is compacted: a watch from old cannot run.
	last, _ := s.Create(ctx, "ns", "c", cm("ns", "c", nil))
	if _, err := backend.Client.Compact(ctx, mustRV(t, last)); err != nil {
		t.Fatal(err)
	}
	if err := c.follow(ctx, mustRV(t, old)); err == nil || ctx.Err() != nil {
		t.Fatalf("following from a compacted revision: %v, want an error", err)
	}
	if _, err := c.relist(ctx); err != nil {
		t.Fatal(err)
	}
	waitForClose(t, w)
	page, err := s.List(ctx, "ns", ListOptions{})
	if err != nil || fmt.Sprint(names(page.Items)) != "[a b c]" {
		t.Fatalf("after the re-list: %v %v", names(page.Items), err)
	}
}

// The window keeps the last max events in order across wrap-arounds, and
// knows the revision after which it holds every event.
func TestCacheRingWrapsAround(t *testing.T) {
	r := newRing(4, 10)
	for rev := int64(11); rev <= 20; rev++ {
		r.push(cacheEvent{rev: rev})
	}
	if r.since != 16 || r.first != 6 || r.end() != 10 {
		t.Fatalf("since %d first %d end %d, want 16 6 10", r.since, r.first, r.end())
	}
	if _, ok := r.from(nil, 5, 10); ok {
		t.Fatal("seq 5 was dropped, yet from(5) answered")
	}
	evs, ok := r.from(nil, r.after(17), 10)
	var revs []int64
	for _, e := range evs {
		revs = append(revs, e.rev)
	}
	if !ok || fmt.Sprint(revs) != "[18 19 20]" {
		t.Fatalf("events after 17: %v %v", revs, ok)
	}
	if got := r.after(25); got != r.end() {
		t.Fatalf("after a future revision: %d, want the end %d", got, r.end())
	}
	// A watch hands back its last batch for the next: from overwrites it.
	again, ok := r.from(evs, r.after(18), 10)
	revs = revs[:0]
	for _, e := range again {
		revs = append(revs, e.rev)
	}
	if !ok || fmt.Sprint(revs) != "[19 20]" || &again[0] != &evs[0] {
		t.Fatalf("events after 18 into the last batch: %v %v (same storage: %v)", revs, ok, &again[0] == &evs[0])
	}
}
