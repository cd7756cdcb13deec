package nodelifecycle

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"
)

// waitFor polls cond (reading the fake's objects) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func taintKeys(n *corev1.Node) []string {
	var out []string
	for _, t := range n.Spec.Taints {
		out = append(out, t.ToString())
	}
	slices.Sort(out)
	return out
}

// withOptimisticConcurrency makes the fake refuse a node update that does
// not carry the stored resourceVersion, as the API server does, and bump it
// (the plain fake keeps the last write, whatever it was based on).
func withOptimisticConcurrency(client *fake.Clientset) {
	client.PrependReactor("update", "nodes", func(action k8stesting.Action) (bool, runtime.Object, error) {
		node := action.(k8stesting.UpdateAction).GetObject().(*corev1.Node)
		cur, err := client.Tracker().Get(action.GetResource(), "", node.Name)
		if err != nil {
			return true, nil, err
		}
		rv := cur.(*corev1.Node).ResourceVersion
		if node.ResourceVersion != rv {
			return true, nil, apierrors.NewConflict(action.GetResource().GroupResource(), node.Name, errors.New("stale resourceVersion"))
		}
		n, _ := strconv.Atoi(rv)
		node.ResourceVersion = strconv.Itoa(n + 1)
		return false, nil, nil // the tracker stores it
	})
}

// A node whose lease stops being renewed goes Unknown and is tainted
// unreachable once the fake clock passes the grace period; when the lease
// is renewed and the agent posts Ready=True, the taints go.
func TestControllerMarksSilentNodeAndRecovers(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(t0)
	client := fake.NewSimpleClientset(testNode(func(n *corev1.Node) { n.ResourceVersion = "1" }), leaseAt(t0))
	withOptimisticConcurrency(client)
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory, slog.New(slog.NewTextHandler(io.Discard, nil)), clk, Config{})
	runCtx, cancel := context.WithCancel(ctx)
	factory.Start(runCtx.Done())
	done := make(chan struct{})
	go func() { c.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })

	nodes := client.CoreV1().Nodes()
	get := func() *corev1.Node {
		n, err := nodes.Get(ctx, "n1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	unreachable := []string{"node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"}
	waitFor(t, "the silent node to be tainted unreachable", func() bool {
		clk.Step(5 * time.Second) // monitor period
		return slices.Equal(taintKeys(get()), unreachable)
	})
	if clk.Since(t0) <= DefaultConfig().GracePeriod {
		t.Errorf("tainted after %v, before the grace period", clk.Since(t0))
	}
	for _, cond := range get().Status.Conditions {
		if cond.Status != corev1.ConditionUnknown || cond.Reason != ReasonNodeStatusUnknown || cond.Message != MessageNodeStatusUnknown {
			t.Errorf("condition %+v", cond)
		}
	}

	// The agent comes back: renews its lease and posts Ready=True.
	if _, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Update(ctx, leaseAt(clk.Now()), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n := get()
		ready := condition(n, corev1.NodeReady)
		ready.Status, ready.Reason, ready.LastHeartbeatTime = corev1.ConditionTrue, "KubeletReady", metav1.NewTime(clk.Now())
		_, err := nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the unreachable taints to go", func() bool { return len(get().Spec.Taints) == 0 })
	if ready := condition(get(), corev1.NodeReady); ready.Status != corev1.ConditionTrue {
		t.Errorf("Ready = %+v after the agent came back", ready)
	}
}
