package endpoints

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"
)

type harness struct {
	client *fake.Clientset
	clock  *clocktesting.FakeClock
	ctx    context.Context
}

func start(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	clk := clocktesting.NewFakeClock(time.Now())
	c := New(client, factory, slog.New(slog.NewTextHandler(io.Discard, nil)), clk, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	return &harness{client: client, clock: clk, ctx: ctx}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// get returns the Endpoints named name, or nil.
func (h *harness) get(t *testing.T, name string) *corev1.Endpoints {
	t.Helper()
	ep, err := h.client.CoreV1().Endpoints("default").Get(h.ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

func readyIPs(ep *corev1.Endpoints) []string {
	var out []string
	for _, ss := range ep.Subsets {
		out = append(out, ips(ss.Addresses)...)
	}
	return out
}

func handWritten(name string) *corev1.Endpoints {
	return &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "192.0.2.10"}},
			Ports: []corev1.EndpointPort{{Port: 5432, Protocol: corev1.ProtocolTCP}}}}}
}

func TestControllerFollowsPodsAndService(t *testing.T) {
	h := start(t, testService(), testPod("a", "10.244.0.2"), testPod("b", "10.244.0.3", notReady))
	waitFor(t, "Endpoints with a ready and b not ready", func() bool {
		ep := h.get(t, "web")
		return ep != nil && slices.Equal(readyIPs(ep), []string{"10.244.0.2"}) &&
			len(ep.Subsets[0].NotReadyAddresses) == 1 && ep.Labels["endpointslice.kubernetes.io/skip-mirror"] == "true"
	})
	pods := h.client.CoreV1().Pods("default")
	if _, err := pods.UpdateStatus(h.ctx, testPod("b", "10.244.0.3"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Delete(h.ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "only b, ready", func() bool {
		ep := h.get(t, "web")
		return slices.Equal(readyIPs(ep), []string{"10.244.0.3"}) && len(ep.Subsets[0].NotReadyAddresses) == 0
	})
	// Someone deletes the Endpoints: they come back.
	if err := h.client.CoreV1().Endpoints("default").Delete(h.ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Endpoints made again", func() bool { ep := h.get(t, "web"); return ep != nil && len(readyIPs(ep)) == 1 })
	// The service goes: its Endpoints go.
	if err := h.client.CoreV1().Services("default").Delete(h.ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Endpoints deleted with the service", func() bool { return h.get(t, "web") == nil })
}

func TestControllerDropsEndpointsOfServiceThatLostItsSelector(t *testing.T) {
	h := start(t, testService(), testPod("a", "10.244.0.2"))
	waitFor(t, "Endpoints", func() bool { return h.get(t, "web") != nil })
	svc := testService(func(s *corev1.Service) { s.Spec.Selector = nil })
	if _, err := h.client.CoreV1().Services("default").Update(h.ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Endpoints deleted", func() bool { return h.get(t, "web") == nil })
}

// Hand-written Endpoints (a Service without a selector, or with none at
// all) are the user's: not changed, not deleted, also when their Service
// goes. The syncs run here directly, on synced caches.
func TestControllerLeavesHandWrittenEndpointsAlone(t *testing.T) {
	external := testService(func(s *corev1.Service) { s.Name, s.UID, s.Spec.Selector = "db", "db-uid", nil })
	client := fake.NewSimpleClientset(external, handWritten("db"), handWritten("lonely"))
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory, slog.New(slog.NewTextHandler(io.Discard, nil)), clocktesting.NewFakeClock(time.Now()), Config{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	syncAll := func() {
		for _, key := range []string{"default/db", "default/lonely"} {
			if err := c.sync(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
	}
	syncAll()
	if err := client.CoreV1().Services("default").Delete(ctx, "db", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cache to lose the service", func() bool {
		_, err := c.services.Services("default").Get("db")
		return apierrors.IsNotFound(err)
	})
	syncAll()
	for _, a := range client.Actions() {
		if a.GetResource().Resource == "endpoints" && a.GetVerb() != "list" && a.GetVerb() != "watch" {
			t.Errorf("the controller wrote hand-written Endpoints: %s %v", a.GetVerb(), a)
		}
	}
}

// A Service with a selector owns its Endpoints even when someone wrote
// them first: they are replaced by the pods' addresses.
func TestControllerTakesOverEndpointsOfServiceWithSelector(t *testing.T) {
	h := start(t, handWritten("web"), testService(), testPod("a", "10.244.0.2"))
	waitFor(t, "the pod's address", func() bool {
		ep := h.get(t, "web")
		return ep != nil && slices.Equal(readyIPs(ep), []string{"10.244.0.2"}) && Managed(ep)
	})
}
