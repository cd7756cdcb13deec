package noderoutes

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"
)

// runController runs a controller for node "a" until the test ends.
func runController(t *testing.T, client *fake.Clientset, k *fakeKernel, clk *clocktesting.FakeClock) context.Context {
	t.Helper()
	c, err := New(client, "a", k, slog.New(slog.NewTextHandler(io.Discard, nil)), clk)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.Run(ctx)
	return ctx
}

// waitTable waits until the kernel's owned routes are want.
// syncOnce makes node a's controller with opts, waits for its informers
// and runs one Sync: the controller and Sync's error.
func syncOnce(t *testing.T, client *fake.Clientset, k *fakeKernel, opts ...Option) (*Controller, error) {
	t.Helper()
	c, err := New(client, "a", k, slog.New(slog.NewTextHandler(io.Discard, nil)), clocktesting.NewFakeClock(time.Now()), opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c.factory.Start(ctx.Done())
	c.factory.WaitForCacheSync(ctx.Done())
	return c, c.Sync(ctx)
}

func waitTable(t *testing.T, k *fakeKernel, want map[string]string) {
	t.Helper()
	var got map[string]string
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		got = k.table()
		return reflect.DeepEqual(got, want), nil
	})
	if err != nil {
		t.Fatalf("routes %v, want %v", got, want)
	}
}

func TestControllerFollowsTheNodes(t *testing.T) {
	client := fake.NewClientset(node("a", "192.168.5.1", "10.244.0.0/24"), node("b", "192.168.5.2", "10.244.1.0/24"),
		node("far", "10.9.9.9", "10.244.5.0/24")) // not a neighbour: no route
	k := newFakeKernel("192.168.5.2", "192.168.5.3", "192.168.5.4")
	k.routes[netipPrefix("10.244.8.0/24")] = Route{Dst: netipPrefix("10.244.8.0/24"), Gw: netipAddr("192.168.5.8")} // ours, for a node long gone
	clk := clocktesting.NewFakeClock(time.Now())
	ctx := runController(t, client, k, clk)
	waitTable(t, k, map[string]string{"10.244.1.0/24": "192.168.5.2"})

	nodes := client.CoreV1().Nodes()
	if _, err := nodes.Create(ctx, node("c", "192.168.5.3", "10.244.2.0/24"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTable(t, k, map[string]string{"10.244.1.0/24": "192.168.5.2", "10.244.2.0/24": "192.168.5.3"})

	moved := node("c", "192.168.5.4", "10.244.2.0/24")
	if _, err := nodes.Update(ctx, moved, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTable(t, k, map[string]string{"10.244.1.0/24": "192.168.5.2", "10.244.2.0/24": "192.168.5.4"})

	if err := nodes.Delete(ctx, "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTable(t, k, map[string]string{"10.244.2.0/24": "192.168.5.4"})
}

// A route someone removed comes back at the next resync, with no Node change.
func TestControllerRepairsAtResync(t *testing.T) {
	client := fake.NewClientset(node("a", "192.168.5.1", "10.244.0.0/24"), node("b", "192.168.5.2", "10.244.1.0/24"))
	k := newFakeKernel("192.168.5.2")
	clk := clocktesting.NewFakeClock(time.Now())
	ctx := runController(t, client, k, clk)
	want := map[string]string{"10.244.1.0/24": "192.168.5.2"}
	waitTable(t, k, want)
	k.Delete(Route{Dst: netipPrefix("10.244.1.0/24"), Gw: netipAddr("192.168.5.2")})
	err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		clk.Step(Resync)
		return reflect.DeepEqual(k.table(), want), nil
	})
	if err != nil {
		t.Fatalf("route not restored after resync: %v", k.table())
	}
}

func TestSyncReportsAFailedRouteAndGoesOn(t *testing.T) {
	client := fake.NewClientset(node("a", "192.168.5.1", "10.244.0.0/24"), node("b", "192.168.5.2", "10.244.1.0/24"), node("c", "192.168.5.3", "10.244.2.0/24"))
	k := newFakeKernel("192.168.5.2", "192.168.5.3")
	k.failAdd[netipPrefix("10.244.1.0/24")] = true
	_, err := syncOnce(t, client, k)
	if err == nil || err.Error() != fmt.Sprintf("route 10.244.1.0/24 via 192.168.5.2: invalid argument") {
		t.Errorf("Sync: %v", err)
	}
	if got := k.table(); !reflect.DeepEqual(got, map[string]string{"10.244.2.0/24": "192.168.5.3"}) {
		t.Errorf("routes %v: the other peer's route must still be made", got)
	}
}

func TestCleanupRemovesEveryOwnedRoute(t *testing.T) {
	k := newFakeKernel()
	k.routes[netipPrefix("10.244.1.0/24")] = Route{Dst: netipPrefix("10.244.1.0/24"), Gw: netipAddr("192.168.5.2")}
	k.routes[netipPrefix("10.244.2.0/24")] = Route{Dst: netipPrefix("10.244.2.0/24"), Gw: netipAddr("192.168.5.3")}
	if err := Cleanup(k, k); err != nil {
		t.Fatal(err)
	}
	if got := k.table(); len(got) != 0 {
		t.Errorf("left %v", got)
	}
}
