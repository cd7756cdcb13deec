package nodeipam

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
)

func node(name, cidr string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if cidr != "" {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = cidr, []string{cidr}
	}
	return n
}

// run starts the controller over nodes and returns the client and the
// recorder's events.
func run(t *testing.T, cluster string, nodes ...*corev1.Node) (*fake.Clientset, chan string) {
	t.Helper()
	return runReserving(t, cluster, nil, nodes...)
}

// runReserving is run with reserved ranges.
func runReserving(t *testing.T, cluster string, reserved []netip.Prefix, nodes ...*corev1.Node) (*fake.Clientset, chan string) {
	t.Helper()
	client := fake.NewClientset()
	for _, n := range nodes {
		if _, err := client.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	rec := record.NewFakeRecorder(10)
	c, err := New(client, factory, rec, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.RealClock{},
		Config{ClusterCIDR: netip.MustParsePrefix(cluster), Reserved: reserved})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	return client, rec.Events
}

func waitForCIDRs(t *testing.T, client *fake.Clientset, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		for name := range want {
			n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			got[name] = n.Spec.PodCIDR
			if len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != n.Spec.PodCIDR {
				return false, nil
			}
		}
		for name, cidr := range want {
			if got[name] != cidr {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("pod ranges %v, want %v: %v", got, want, err)
	}
}

// Nodes without a range get the lowest free blocks, one each; a node's own
// range is kept and taken.
func TestNodesGetFreeBlocks(t *testing.T) {
	client, _ := run(t, "10.244.0.0/16", node("a", ""), node("b", "10.244.0.0/24"), node("c", ""))
	waitForCIDRs(t, client, map[string]string{"a": "10.244.1.0/24", "b": "10.244.0.0/24", "c": "10.244.2.0/24"})
	if _, err := client.CoreV1().Nodes().Create(context.Background(), node("d", ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForCIDRs(t, client, map[string]string{"d": "10.244.3.0/24"})
}

// When every block is taken, the node is told so by an event, as kube's.
func TestFullClusterCIDR(t *testing.T) {
	client, events := run(t, "10.244.0.0/23", node("a", ""), node("b", ""), node("c", "10.244.1.0/24"))
	waitForCIDRs(t, client, map[string]string{"a": "10.244.0.0/24", "c": "10.244.1.0/24"})
	select {
	case e := <-events:
		if !strings.Contains(e, "CIDRNotAvailable") {
			t.Errorf("event %q", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no CIDRNotAvailable event for b")
	}
	if n, _ := client.CoreV1().Nodes().Get(context.Background(), "b", metav1.GetOptions{}); n.Spec.PodCIDR != "" {
		t.Errorf("b got %s from a full range", n.Spec.PodCIDR)
	}
}

func TestBlocks(t *testing.T) {
	b, err := newBlocks(netip.MustParsePrefix("10.244.0.0/16"), 24)
	if err != nil || b.count() != 256 || b.at(0).String() != "10.244.0.0/24" || b.at(255).String() != "10.244.255.0/24" {
		t.Fatalf("%v %d %v %v", err, b.count(), b.at(0), b.at(255))
	}
	used := []netip.Prefix{netip.MustParsePrefix("10.244.0.0/23"), netip.MustParsePrefix("10.244.3.7/32")}
	if p, err := b.lowestFree(used); err != nil || p.String() != "10.244.2.0/24" {
		t.Errorf("lowest free beside %v: %v %v", used, p, err)
	}
	v6, err := newBlocks(netip.MustParsePrefix("fd00:10::/56"), 64)
	if err != nil || v6.at(3).String() != "fd00:10:0:3::/64" {
		t.Errorf("v6: %v %v", err, v6.at(3))
	}
	for _, bad := range []int{8, 33} {
		if _, err := newBlocks(netip.MustParsePrefix("10.244.0.0/16"), bad); err == nil {
			t.Errorf("mask size %d accepted", bad)
		}
	}
}

// The server's own agent's range is kept for it before its Node registers.
func TestReservedRange(t *testing.T) {
	client, _ := runReserving(t, "10.244.0.0/16", []netip.Prefix{netip.MustParsePrefix("10.244.0.0/24")}, node("joined", ""))
	waitForCIDRs(t, client, map[string]string{"joined": "10.244.1.0/24"})
}
