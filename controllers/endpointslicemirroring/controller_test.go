package endpointslicemirroring

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// newHarness builds the controller on a fake clientset holding objs;
// creates of slices get a name from generateName, as the API server
// gives them.
func newHarness(t *testing.T, objs ...runtime.Object) (*harness, informers.SharedInformerFactory) {
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
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	factory.Start(ctx.Done())
	return &harness{client: client, c: c, ctx: ctx}, factory
}

// start also runs the controller.
func start(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	h, _ := newHarness(t, objs...)
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(h.ctx)
	go func() { h.c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// mirrored lists the mirrored slices of name through the fake.
func (h *harness) mirrored(t *testing.T, name string) []discoveryv1.EndpointSlice {
	t.Helper()
	l, err := h.client.DiscoveryV1().EndpointSlices("default").List(h.ctx, metav1.ListOptions{LabelSelector: selectorFor(name).String()})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func TestControllerMirrorsHandWrittenEndpoints(t *testing.T) {
	h := start(t, external(), handWritten())
	waitFor(t, "a mirrored slice", func() bool {
		s := h.mirrored(t, "db")
		return len(s) == 1 && slices.Equal(endpointIPs(&s[0]), []string{"192.0.2.10=true", "192.0.2.11=false"})
	})
	first := h.mirrored(t, "db")[0].Name

	eps := h.client.CoreV1().Endpoints("default")
	if _, err := eps.Update(h.ctx, handWritten(withAddresses(2)), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slice updated in place", func() bool {
		s := h.mirrored(t, "db")
		return len(s) == 1 && s[0].Name == first && slices.Equal(endpointIPs(&s[0]), []string{"10.1.0.1=true", "10.1.0.2=true", "192.0.2.11=false"})
	})
	if err := eps.Delete(h.ctx, "db", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slice deleted with the Endpoints", func() bool { return len(h.mirrored(t, "db")) == 0 })
}

func TestControllerStopsMirroringWhenTheServiceGetsASelector(t *testing.T) {
	h := start(t, external(), handWritten())
	waitFor(t, "a mirrored slice", func() bool { return len(h.mirrored(t, "db")) == 1 })
	svc := external(func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "db"} })
	if _, err := h.client.CoreV1().Services("default").Update(h.ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the mirrored slice deleted", func() bool { return len(h.mirrored(t, "db")) == 0 })
}

// Endpoints labelled skip-mirror (the endpoints controller's) and
// Endpoints without a Service are not mirrored; slices this controller
// did not make (the endpointslice controller's, a user's) are never
// touched. The syncs run here directly, on synced caches.
func TestControllerSkipsAndLeavesOthersSlicesAlone(t *testing.T) {
	ready := true
	slice := func(name, managedBy string) *discoveryv1.EndpointSlice {
		l := map[string]string{discoveryv1.LabelServiceName: "web"}
		if managedBy != "" {
			l[discoveryv1.LabelManagedBy] = managedBy
		}
		return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: l},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.244.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}}}
	}
	web := external(func(s *corev1.Service) { s.Name, s.UID = "web", "web-uid" })
	skipped := handWritten(func(ep *corev1.Endpoints) { ep.Name, ep.Labels[discoveryv1.LabelSkipMirror] = "web", "true" })
	lonely := handWritten(func(ep *corev1.Endpoints) { ep.Name = "lonely" })
	h, factory := newHarness(t, web, skipped, lonely, slice("web-abcde", "endpointslice-controller.k8s.io"), slice("web-user", ""))
	factory.WaitForCacheSync(h.ctx.Done())
	for _, key := range []string{"default/web", "default/lonely"} {
		if err := h.c.sync(h.ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range h.client.Actions() {
		if a.GetResource().Resource == "endpointslices" && a.GetVerb() != "list" && a.GetVerb() != "watch" {
			t.Errorf("unexpected write: %s %v", a.GetVerb(), a)
		}
	}
}
