package nodestatus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"
)

func reporter(t *testing.T, healthy *bool) (*Reporter, *fake.Clientset, *testingclock.FakeClock) {
	client := fake.NewClientset()
	clk := testingclock.NewFakeClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	health := func(context.Context) (string, bool, string) {
		if !*healthy {
			return "", false, "container runtime is down: containerd is gone"
		}
		return "containerd://2.0", true, ""
	}
	cfg := Config{NodeName: "n1", NodeIP: "192.0.2.7", PodCIDR: "10.244.1.0/24", Port: 10250, MaxPods: 110, RootDir: t.TempDir(),
		StatusInterval: 10 * time.Second, RenewInterval: 10 * time.Second, LeaseDuration: 40 * time.Second}
	return New(cfg, client, health, clk, slog.New(slog.NewTextHandler(io.Discard, nil))), client, clk
}

func ready(n *corev1.Node) corev1.NodeCondition {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c
		}
	}
	return corev1.NodeCondition{}
}

func TestRegistersAndReportsReadiness(t *testing.T) {
	healthy := true
	r, client, clk := reporter(t, &healthy)
	ctx := context.Background()
	if err := r.postNodeStatus(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first := ready(n)
	if first.Status != corev1.ConditionTrue || n.Spec.PodCIDR != "10.244.1.0/24" || n.Status.Addresses[0].Address != "192.0.2.7" ||
		n.Status.NodeInfo.ContainerRuntimeVersion != "containerd://2.0" || n.Status.DaemonEndpoints.KubeletEndpoint.Port != 10250 {
		t.Fatalf("node %+v", n)
	}
	healthy = false
	clk.Step(time.Minute)
	if err := r.postNodeStatus(ctx); err != nil {
		t.Fatal(err)
	}
	n, _ = client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if c := ready(n); c.Status != corev1.ConditionFalse || c.Message != "container runtime is down: containerd is gone" || !c.LastTransitionTime.Time.Equal(clk.Now()) {
		t.Fatalf("Ready with the runtime down: %+v", c)
	}
}

func TestLeaseIsCreatedThenRenewed(t *testing.T) {
	healthy := true
	r, client, clk := reporter(t, &healthy)
	ctx := context.Background()
	for range 2 {
		if err := r.renewLease(ctx); err != nil {
			t.Fatal(err)
		}
		l, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, "n1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !l.Spec.RenewTime.Time.Equal(clk.Now()) || *l.Spec.HolderIdentity != "n1" || *l.Spec.LeaseDurationSeconds != 40 {
			t.Fatalf("lease %+v", l.Spec)
		}
		clk.Step(10 * time.Second)
	}
}

type fakePressure struct{ memory, disk, pid atomic.Bool }

func (p *fakePressure) IsUnderMemoryPressure() bool { return p.memory.Load() }
func (p *fakePressure) IsUnderDiskPressure() bool   { return p.disk.Load() }
func (p *fakePressure) IsUnderPIDPressure() bool    { return p.pid.Load() }

func condition(n *corev1.Node, t corev1.NodeConditionType) corev1.NodeCondition {
	for _, c := range n.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return corev1.NodeCondition{}
}

func TestPressureConditions(t *testing.T) {
	healthy := true
	r, client, clk := reporter(t, &healthy)
	p := &fakePressure{}
	r.cfg.Pressure = p
	ctx := context.Background()
	post := func() *corev1.Node {
		t.Helper()
		if err := r.postNodeStatus(ctx); err != nil {
			t.Fatal(err)
		}
		n, err := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := post()
	if c := condition(n, corev1.NodeMemoryPressure); c.Status != corev1.ConditionFalse || c.Reason != "KubeletHasSufficientMemory" {
		t.Fatalf("MemoryPressure %+v, want False", c)
	}
	p.memory.Store(true)
	p.disk.Store(true)
	p.pid.Store(true)
	clk.Step(time.Minute)
	n = post()
	for _, want := range []struct {
		t      corev1.NodeConditionType
		reason string
	}{{corev1.NodeMemoryPressure, "KubeletHasInsufficientMemory"}, {corev1.NodeDiskPressure, "KubeletHasDiskPressure"},
		{corev1.NodePIDPressure, "KubeletHasInsufficientPID"}} {
		if c := condition(n, want.t); c.Status != corev1.ConditionTrue || c.Reason != want.reason || !c.LastTransitionTime.Time.Equal(clk.Now()) {
			t.Errorf("%s %+v, want True %s since now", want.t, c, want.reason)
		}
	}
}

func TestKickPostsAtOnce(t *testing.T) {
	healthy := true
	r, client, _ := reporter(t, &healthy)
	p := &fakePressure{}
	r.cfg.Pressure = p
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.runNodeStatus(ctx)
	waitFor := func(status corev1.ConditionStatus) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if n, err := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{}); err == nil && condition(n, corev1.NodeMemoryPressure).Status == status {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("MemoryPressure never %s", status)
	}
	waitFor(corev1.ConditionFalse)
	p.memory.Store(true)
	r.Kick() // the fake clock never ticks: only the kick posts again
	waitFor(corev1.ConditionTrue)
}

// A status update that meets another writer's change of the Node (a
// controller manager's pod range or taint, just after the registration)
// is tried again at once with the Node read afresh, not a StatusInterval
// later; five conflicts in a row, and other errors, are returned.
func TestStatusUpdateRetriesConflicts(t *testing.T) {
	healthy := true
	r, client, _ := reporter(t, &healthy)
	ctx := context.Background()
	conflicts, updates := 1, 0
	client.PrependReactor("update", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "status" {
			return false, nil, nil
		}
		updates++
		if conflicts > 0 {
			conflicts--
			return true, nil, apierrors.NewConflict(corev1.Resource("nodes"), "n1", errors.New("the object has been modified"))
		}
		return false, nil, nil
	})
	if err := r.updateNodeStatus(ctx); err != nil {
		t.Fatalf("one conflict: %v", err)
	}
	n, err := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil || ready(n).Status != corev1.ConditionTrue || updates != 2 {
		t.Fatalf("after one conflict: Ready %q, %d updates, %v; want True after 2", ready(n).Status, updates, err)
	}
	conflicts, updates = 100, 0
	if err := r.updateNodeStatus(ctx); !apierrors.IsConflict(err) || updates != nodeStatusUpdateRetry {
		t.Fatalf("conflicts every time: %v after %d updates, want the conflict after %d", err, updates, nodeStatusUpdateRetry)
	}
	conflicts, updates = 0, 0
	client.PrependReactor("update", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		updates++
		return true, nil, apierrors.NewForbidden(corev1.Resource("nodes"), "n1", errors.New("no"))
	})
	if err := r.updateNodeStatus(ctx); !apierrors.IsForbidden(err) || updates != 1 {
		t.Fatalf("forbidden: %v after %d updates, want it after 1", err, updates)
	}
}

// A request that got no answer (a connection closed under it by a client
// certificate rotation) is tried again at once, as kubelet does, instead
// of leaving the status to the next StatusInterval; an error the API
// server answered is not, but for a conflict.
func TestStatusUpdateRetriesUnansweredRequests(t *testing.T) {
	healthy := true
	r, client, _ := reporter(t, &healthy)
	ctx := context.Background()
	if err := r.updateNodeStatus(ctx); err != nil {
		t.Fatal(err)
	}
	closed, updates := 1, 0
	client.PrependReactor("update", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		updates++
		if closed > 0 {
			closed--
			return true, nil, errors.New("write tcp 10.0.0.2:40000->10.0.0.1:6443: use of closed network connection")
		}
		return false, nil, nil
	})
	if err := r.updateNodeStatus(ctx); err != nil || updates != 2 {
		t.Fatalf("one closed connection: %v after %d updates, want success after 2", err, updates)
	}
	closed, updates = 100, 0
	if err := r.updateNodeStatus(ctx); err == nil || updates != nodeStatusUpdateRetry {
		t.Fatalf("the connection closed every time: %v after %d updates, want the error after %d", err, updates, nodeStatusUpdateRetry)
	}
	closed, updates = 100, 0
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := r.updateNodeStatus(done); err == nil || updates > 1 {
		t.Fatalf("after the context ended: %v after %d updates, want no second try", err, updates)
	}
}

// Against kube-apiserver, a taint the controller manager adds between the
// agent's read and its status update is refused by NodeRestriction ("not
// allowed to modify taints": it compares the update's spec.taints, as the
// agent read them, with the stored ones before the resourceVersion), not
// met with a conflict: the update is tried again with the Node read
// afresh, and the taint stays.
func TestStatusUpdateRetriesTaintRace(t *testing.T) {
	healthy := true
	r, client, _ := reporter(t, &healthy)
	ctx := context.Background()
	if err := r.updateNodeStatus(ctx); err != nil {
		t.Fatal(err)
	}
	taint := corev1.Taint{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule}
	tainted := false
	client.PrependReactor("get", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if tainted {
			return false, nil, nil
		}
		tainted = true // the controller manager writes just after this read
		n, err := client.Tracker().Get(corev1.SchemeGroupVersion.WithResource("nodes"), "", "n1")
		if err != nil {
			return true, nil, err
		}
		read := n.(*corev1.Node).DeepCopy()
		stored := read.DeepCopy()
		stored.Spec.Taints = append(stored.Spec.Taints, taint)
		if err := client.Tracker().Update(corev1.SchemeGroupVersion.WithResource("nodes"), stored, ""); err != nil {
			return true, nil, err
		}
		return true, read, nil
	})
	client.PrependReactor("update", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		n := a.(k8stesting.UpdateAction).GetObject().(*corev1.Node)
		stored, err := client.Tracker().Get(corev1.SchemeGroupVersion.WithResource("nodes"), "", n.Name)
		if err != nil {
			return true, nil, err
		}
		if !equality.Semantic.DeepEqual(n.Spec.Taints, stored.(*corev1.Node).Spec.Taints) {
			return true, nil, apierrors.NewForbidden(corev1.Resource("nodes"), n.Name, fmt.Errorf("node %q is not allowed to modify taints", n.Name))
		}
		return false, nil, nil
	})
	if err := r.updateNodeStatus(ctx); err != nil {
		t.Fatalf("a taint between the read and the update: %v", err)
	}
	n, err := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil || len(n.Spec.Taints) != 1 || ready(n).Status != corev1.ConditionTrue {
		t.Fatalf("taints %v, Ready %q, %v", n.Spec.Taints, ready(n).Status, err)
	}
}
