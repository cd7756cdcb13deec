package endpointslice

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

type harness struct {
	client *fake.Clientset
	c      *Controller
	ctx    context.Context
}

// start runs the controller on a fake clientset holding objs; creates of
// slices get a name from generateName, as the API server gives them.
func start(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	var n atomic.Int64
	client.PrependReactor("create", "endpointslices", func(action k8stesting.Action) (bool, runtime.Object, error) {
		s := action.(k8stesting.CreateAction).GetObject().(*discoveryv1.EndpointSlice)
		if s.Name == "" {
			s.Name = fmt.Sprintf("%s%05d", s.GenerateName, n.Add(1))
		}
		return false, nil, nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory, slog.New(slog.NewTextHandler(io.Discard, nil)), clocktesting.NewFakeClock(time.Now()), Config{})
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	return &harness{client: client, c: c, ctx: ctx}
}

func (h *harness) synced() bool {
	for _, s := range h.c.synced {
		if !s() {
			return false
		}
	}
	return true
}

// slices lists the managed slices of service name through the fake.
func (h *harness) slices(t *testing.T, name string) []discoveryv1.EndpointSlice {
	t.Helper()
	l, err := h.client.DiscoveryV1().EndpointSlices("default").List(h.ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + name + "," + discoveryv1.LabelManagedBy + "=" + ManagedBy})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func readyOf(s discoveryv1.EndpointSlice, pod string) (bool, bool) {
	for _, ep := range s.Endpoints {
		if ep.TargetRef.Name == pod {
			return *ep.Conditions.Ready, true
		}
	}
	return false, false
}

func TestControllerFollowsPodsAndServices(t *testing.T) {
	h := start(t, testService(), testPod("a", "10.244.0.2"), testPod("b", "10.244.0.3"))
	waitFor(t, "a slice with both pods", func() bool {
		s := h.slices(t, "web")
		return len(s) == 1 && len(s[0].Endpoints) == 2
	})
	first := h.slices(t, "web")[0]
	if o := first.OwnerReferences; len(o) != 1 || o[0].Name != "web" || !*o[0].Controller {
		t.Fatalf("owner %+v", o)
	}

	// b stops being ready: the same slice is updated.
	pods := h.client.CoreV1().Pods("default")
	b := testPod("b", "10.244.0.3", notReady)
	if _, err := pods.UpdateStatus(h.ctx, b, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b not ready", func() bool {
		s := h.slices(t, "web")
		ready, ok := readyOf(s[0], "b")
		return len(s) == 1 && ok && !ready
	})
	if got := h.slices(t, "web"); got[0].Name != first.Name {
		t.Fatalf("slice renamed: %s -> %s", first.Name, got[0].Name)
	}

	// a goes; c comes with a label change.
	if err := pods.Delete(h.ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	c := testPod("c", "10.244.0.4", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "db"} })
	if _, err := pods.Create(h.ctx, c, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Labels = map[string]string{"app": "web"}
	if _, err := pods.Update(h.ctx, c, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a gone, c in", func() bool {
		s := h.slices(t, "web")
		_, hasA := readyOf(s[0], "a")
		_, hasC := readyOf(s[0], "c")
		return len(s) == 1 && !hasA && hasC
	})

	// The service goes: its slices go.
	if err := h.client.CoreV1().Services("default").Delete(h.ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "slices deleted", func() bool { return len(h.slices(t, "web")) == 0 })
}

// Many pods at once: slices of at most 100, never a duplicate.
func TestControllerNeverDuplicatesSlices(t *testing.T) {
	h := start(t, testService())
	waitFor(t, "caches", h.synced)
	// In bursts the fake's watch channels (100 events) can hold.
	for i, p := range pods(230) {
		if _, err := h.client.CoreV1().Pods("default").Create(h.ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if i%40 == 39 {
			waitFor(t, "pods in the cache", func() bool {
				l, _ := h.c.pods.List(labels.Everything())
				return len(l) == i+1
			})
		}
	}
	waitFor(t, "230 endpoints", func() bool {
		n := 0
		for _, s := range h.slices(t, "web") {
			n += len(s.Endpoints)
		}
		return n == 230
	})
	got := h.slices(t, "web")
	if len(got) != 3 {
		t.Fatalf("%d slices for 230 endpoints", len(got))
	}
	seen := map[string]bool{}
	for _, s := range got {
		if len(s.Endpoints) > MaxEndpointsPerSlice {
			t.Fatalf("%s has %d endpoints", s.Name, len(s.Endpoints))
		}
		for _, ep := range s.Endpoints {
			if seen[ep.Addresses[0]] {
				t.Fatalf("%s twice", ep.Addresses[0])
			}
			seen[ep.Addresses[0]] = true
		}
	}
}

// Slices of a service without a selector belong to its user.
func TestControllerLeavesUserSlicesAlone(t *testing.T) {
	manual := testService(func(s *corev1.Service) { s.Name, s.Spec.Selector = "manual", nil })
	ready := true
	user := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "manual-1", Namespace: "default",
		Labels: map[string]string{discoveryv1.LabelServiceName: "manual"}}, AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}}}
	// The mirroring controller's slice of the same service is not this
	// controller's either.
	mirrored := user.DeepCopy()
	mirrored.Name, mirrored.Labels[discoveryv1.LabelManagedBy] = "manual-mirrored", "endpointslicemirroring-controller.k8s.io"
	h := start(t, manual, user, mirrored, testPod("a", "10.244.0.2", func(p *corev1.Pod) { p.Labels = nil }))
	waitFor(t, "caches", h.synced)
	if err := h.c.sync(h.ctx, "default/manual"); err != nil {
		t.Fatal(err)
	}
	got, err := h.client.DiscoveryV1().EndpointSlices("default").Get(h.ctx, "manual-1", metav1.GetOptions{})
	if err != nil || len(got.Endpoints) != 1 {
		t.Fatalf("user slice: %v %+v", err, got)
	}
	l, _ := h.client.DiscoveryV1().EndpointSlices("default").List(h.ctx, metav1.ListOptions{})
	if len(l.Items) != 2 {
		t.Fatalf("%d slices, want only the user's and the mirrored one", len(l.Items))
	}
}

// A sync with nothing changed writes nothing: not the placeholder of a
// service without pods, not the slices of one with pods.
func TestControllerResyncWritesNothing(t *testing.T) {
	tests := []struct {
		name string
		objs []runtime.Object
		eps  int
	}{
		{"placeholder", []runtime.Object{testService()}, 0},
		{"pods", []runtime.Object{testService(), testPod("a", "10.244.0.2"), testPod("b", "10.244.0.3")}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, tt.objs...)
			waitFor(t, "the slice in the cache", func() bool {
				l, _ := h.c.slices.List(managedSelector())
				return len(l) == 1 && len(l[0].Endpoints) == tt.eps && h.c.written.caughtUp("default/web", l)
			})
			h.client.ClearActions()
			for range 3 {
				if err := h.c.sync(h.ctx, "default/web"); err != nil {
					t.Fatal(err)
				}
			}
			if w := writes(h.client.Actions()); len(w) != 0 {
				t.Fatalf("%d writes with nothing changed: %v", len(w), w)
			}
		})
	}
}

// writes lists the create, update and delete actions among as.
func writes(as []k8stesting.Action) []string {
	var out []string
	for _, a := range as {
		switch a.GetVerb() {
		case "create", "update", "delete", "patch":
			out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
		}
	}
	return out
}
