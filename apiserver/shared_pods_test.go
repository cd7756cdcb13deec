package apiserver

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// sharedPodsInformer runs an informer on ts's SharedPods until the test ends.
func sharedPodsInformer(t *testing.T, ts *testServer) cache.SharedIndexInformer {
	t.Helper()
	inf := cache.NewSharedIndexInformer(ts.srv.SharedPods(), &corev1.Pod{}, 0, cache.Indexers{})
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() { defer close(done); inf.Run(ctx.Done()) }()
	t.Cleanup(func() { cancel(); <-done })
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("the SharedPods informer did not sync")
	}
	return inf
}

func informerPod(inf cache.SharedIndexInformer, name string) (*corev1.Pod, error) {
	obj, ok, err := inf.GetStore().GetByKey("default/" + name)
	if err != nil || !ok {
		return nil, fmt.Errorf("pod %s not in the informer (%v)", name, err)
	}
	return obj.(*corev1.Pod), nil
}

// An informer on SharedPods holds the watch cache's own pods (the same
// objects, not copies), follows creates, updates and deletes, and is run
// concurrently with writes and with the server's watches (run with -race).
func TestSharedPodsInformerHoldsTheCachesPods(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	if !ts.podStoreCached(t) {
		t.Fatal("pods are not served from a watch cache")
	}
	pods := ts.admin(t).CoreV1().Pods("default")
	for i := range 3 {
		if _, err := pods.Create(bg, testPod(fmt.Sprint("p", i)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	inf := sharedPodsInformer(t, ts)
	if n := len(inf.GetStore().ListKeys()); n != 3 {
		t.Fatalf("the informer holds %d pods, want 3", n)
	}

	list, err := ts.srv.SharedPods().List(metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	items := list.(*sharedList).Items
	if len(items) != 3 {
		t.Fatalf("SharedPods lists %d pods, want 3", len(items))
	}
	for _, obj := range items {
		p := obj.(*corev1.Pod)
		held, err := informerPod(inf, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		if held != p {
			t.Fatalf("pod %s: the informer holds a copy, not the cache's object", p.Name)
		}
	}

	patch := []byte(`{"metadata":{"labels":{"tier":"gold"}}}`)
	if _, err := pods.Patch(bg, "p1", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Delete(bg, "p2", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	eventuallyNoErr(t, "the informer follows an update and a delete", func() error {
		p, err := informerPod(inf, "p1")
		if err != nil {
			return err
		}
		if p.Labels["tier"] != "gold" {
			return fmt.Errorf("p1's labels are %v", p.Labels)
		}
		if _, err := informerPod(inf, "p2"); err == nil {
			return fmt.Errorf("p2 is still in the informer")
		}
		return nil
	})
}

// SharedPods serves every pod and nothing narrower: a selector is an error,
// not a silently wider answer; a resourceVersion the server has not
// reached is refused as the API refuses it.
func TestSharedPodsRefusesWhatItDoesNotServe(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	lw := ts.srv.SharedPods()
	for _, o := range []metav1.ListOptions{{LabelSelector: "app=web"}, {FieldSelector: "spec.nodeName=n1"}} {
		if _, err := lw.List(o); err == nil {
			t.Errorf("list with %+v: no error", o)
		}
		if w, err := lw.Watch(o); err == nil {
			w.Stop()
			t.Errorf("watch with %+v: no error", o)
		}
	}
	if _, err := lw.List(metav1.ListOptions{ResourceVersion: "99999999", ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}); err == nil {
		t.Error("a list not older than a future resourceVersion: no error")
	}
	if _, err := lw.List(metav1.ListOptions{ResourceVersion: "x"}); err == nil {
		t.Error("a list at resourceVersion x: no error")
	}
}

// Without a watch cache SharedPods still serves (copies read from etcd).
func TestSharedPodsWithoutAWatchCache(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), 0, func(c *Config) { c.NoWatchCache = true })
	if _, err := ts.admin(t).CoreV1().Pods("default").Create(bg, testPod("a"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	inf := sharedPodsInformer(t, ts)
	if _, err := informerPod(inf, "a"); err != nil {
		t.Fatal(err)
	}
}
