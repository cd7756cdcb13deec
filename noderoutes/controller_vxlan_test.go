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

// vxlanState is what the fake kernel holds of the vxlan mode.
type vxlanState struct {
	dev        string
	routes     map[string]string
	neigh, fdb map[string]string
}

func (k *fakeKernel) vxlanState() vxlanState {
	dev, neigh, fdb := k.tunnelState()
	return vxlanState{dev: dev, routes: k.table(), neigh: neigh, fdb: fdb}
}

// waitVXLAN waits until the kernel holds want, stepping the clock by a
// resync each poll when step is set.
func waitVXLAN(t *testing.T, k *fakeKernel, clk *clocktesting.FakeClock, step bool, want vxlanState) {
	t.Helper()
	var got vxlanState
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		if step {
			clk.Step(Resync)
		}
		got = k.vxlanState()
		return reflect.DeepEqual(got, want), nil
	})
	if err != nil {
		t.Fatalf("kernel\n got %+v\nwant %+v", got, want)
	}
}

// runVXLAN runs a vxlan-mode controller for node "a" (InternalIP
// 10.77.1.1 on a link of MTU 1500) until the test ends.
func runVXLAN(t *testing.T, client *fake.Clientset, k *fakeKernel, clk *clocktesting.FakeClock) *fakePublisher {
	t.Helper()
	k.underlays[netipAddr("10.77.1.1")] = Underlay{Index: 3, MTU: 1500}
	pub := &fakePublisher{publish: NodeAnnotator{Client: client, Node: "a"}}
	c, err := New(client, "a", k, slog.New(slog.NewTextHandler(io.Discard, nil)), clk, WithVXLAN(k, pub))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.Run(ctx)
	return pub
}

func annotation(t *testing.T, client *fake.Clientset, name string) string {
	t.Helper()
	n, err := client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n.Annotations[MACAnnotation]
}

const macB, macC = "02:00:00:00:00:b0", "02:00:00:00:00:c0"

func TestVXLANControllerFollowsTheNodes(t *testing.T) {
	self := node("a", "10.77.1.1", "10.244.0.0/24")
	self.Annotations = map[string]string{"keep": "me"}
	client := fake.NewClientset(self, withMAC(node("b", "10.77.2.1", "10.244.1.0/24"), macB),
		node("c", "10.77.3.1", "10.244.2.0/24")) // no MAC yet: not routed
	k := newFakeKernel()
	k.routes[netipPrefix("10.244.1.0/24")] = Route{Dst: netipPrefix("10.244.1.0/24"), Gw: netipAddr("10.77.2.1")} // host-gw's, from before
	clk := clocktesting.NewFakeClock(time.Now())
	runVXLAN(t, client, k, clk)
	dev := "nodeagent.1 mac 02:00:00:00:00:01 mtu 1450 addr 10.244.0.0/32 local 10.77.1.1"
	waitVXLAN(t, k, clk, false, vxlanState{dev: dev,
		routes: map[string]string{"10.244.1.0/24": "10.244.1.0 dev nodeagent.1"},
		neigh:  map[string]string{"10.244.1.0": macB}, fdb: map[string]string{macB: "10.77.2.1"}})
	n, _ := client.CoreV1().Nodes().Get(context.Background(), "a", metav1.GetOptions{})
	if n.Annotations[MACAnnotation] != "02:00:00:00:00:01" || n.Annotations["keep"] != "me" {
		t.Errorf("node a's annotations %v: the MAC published, the rest kept", n.Annotations)
	}

	nodes := client.CoreV1().Nodes()
	if _, err := nodes.Update(context.Background(), withMAC(node("c", "10.77.3.1", "10.244.2.0/24"), macC), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes.Update(context.Background(), withMAC(node("b", "10.77.2.9", "10.244.1.0/24"), "02:00:00:00:00:b1"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitVXLAN(t, k, clk, false, vxlanState{dev: dev,
		routes: map[string]string{"10.244.1.0/24": "10.244.1.0 dev nodeagent.1", "10.244.2.0/24": "10.244.2.0 dev nodeagent.1"},
		neigh:  map[string]string{"10.244.1.0": "02:00:00:00:00:b1", "10.244.2.0": macC},
		fdb:    map[string]string{"02:00:00:00:00:b1": "10.77.2.9", macC: "10.77.3.1"}})

	if err := nodes.Delete(context.Background(), "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitVXLAN(t, k, clk, false, vxlanState{dev: dev,
		routes: map[string]string{"10.244.2.0/24": "10.244.2.0 dev nodeagent.1"},
		neigh:  map[string]string{"10.244.2.0": macC}, fdb: map[string]string{macC: "10.77.3.1"}})
}

// A device someone removed comes back at the next resync, with a new MAC
// that is published, and the peers' entries again.
func TestVXLANControllerRepairsAtResync(t *testing.T) {
	client := fake.NewClientset(node("a", "10.77.1.1", "10.244.0.0/24"), withMAC(node("b", "10.77.2.1", "10.244.1.0/24"), macB))
	k := newFakeKernel()
	clk := clocktesting.NewFakeClock(time.Now())
	pub := runVXLAN(t, client, k, clk)
	want := func(mac string) vxlanState {
		return vxlanState{dev: "nodeagent.1 mac " + mac + " mtu 1450 addr 10.244.0.0/32 local 10.77.1.1",
			routes: map[string]string{"10.244.1.0/24": "10.244.1.0 dev nodeagent.1"},
			neigh:  map[string]string{"10.244.1.0": macB}, fdb: map[string]string{macB: "10.77.2.1"}}
	}
	waitVXLAN(t, k, clk, false, want("02:00:00:00:00:01"))
	k.DeleteDevice(DeviceName)
	if got := k.vxlanState(); got.dev != "" || len(got.routes)+len(got.neigh)+len(got.fdb) != 0 {
		t.Fatalf("the fake kept %+v with its device gone", got)
	}
	waitVXLAN(t, k, clk, true, want("02:00:00:00:00:02"))
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return annotation(t, client, "a") == "02:00:00:00:00:02", nil
	})
	if err != nil {
		t.Fatalf("node a's MAC %q, published %v", annotation(t, client, "a"), pub.published)
	}
}

// Until this node has a range and an address, nothing is made.
func TestVXLANControllerWaitsForItsOwnNode(t *testing.T) {
	client := fake.NewClientset(node("a", "10.77.1.1"), withMAC(node("b", "10.77.2.1", "10.244.1.0/24"), macB))
	k := newFakeKernel()
	k.underlays[netipAddr("10.77.1.1")] = Underlay{Index: 3, MTU: 1500}
	c, err := syncOnce(t, client, k, WithVXLAN(k, NodeAnnotator{Client: client, Node: "a"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := k.vxlanState(); got.dev != "" || len(got.routes) != 0 || !c.said["node a: no pod CIDR yet"] {
		t.Errorf("kernel %+v, problems %v", got, c.said)
	}
}

// The host-gw mode takes the vxlan mode's device and routes away.
func TestHostGWRemovesTheVXLANDevice(t *testing.T) {
	client := fake.NewClientset(node("a", "192.168.5.1", "10.244.0.0/24"), withMAC(node("b", "192.168.5.2", "10.244.1.0/24"), macB))
	k := newFakeKernel("192.168.5.2")
	if _, err := k.EnsureDevice(Device{Name: DeviceName, VNI: 1}); err != nil {
		t.Fatal(err)
	}
	k.SetFDB(DeviceName, FDBEntry{MAC: macB, Dst: netipAddr("192.168.5.2")})
	k.Replace(Route{Dst: netipPrefix("10.244.1.0/24"), Gw: netipAddr("10.244.1.0"), Dev: DeviceName})
	if _, err := syncOnce(t, client, k, WithTunnel(k)); err != nil {
		t.Fatal(err)
	}
	want := vxlanState{routes: map[string]string{"10.244.1.0/24": "192.168.5.2"}, neigh: map[string]string{}, fdb: map[string]string{}}
	if got := k.vxlanState(); !reflect.DeepEqual(got, want) {
		t.Errorf("kernel %+v, want %+v", got, want)
	}
}

func TestCleanupRemovesTheDeviceAndItsEntries(t *testing.T) {
	k := newFakeKernel()
	k.EnsureDevice(Device{Name: DeviceName, VNI: 1})
	k.SetNeighbor(DeviceName, Neighbor{IP: netipAddr("10.244.1.0"), MAC: macB})
	k.SetFDB(DeviceName, FDBEntry{MAC: macB, Dst: netipAddr("10.77.2.1")})
	k.Replace(Route{Dst: netipPrefix("10.244.1.0/24"), Gw: netipAddr("10.244.1.0"), Dev: DeviceName})
	k.Replace(Route{Dst: netipPrefix("10.244.2.0/24"), Gw: netipAddr("192.168.5.3")})
	if err := Cleanup(k, k); err != nil {
		t.Fatal(err)
	}
	if got := k.vxlanState(); fmt.Sprint(got) != fmt.Sprint(vxlanState{routes: map[string]string{}, neigh: map[string]string{}, fdb: map[string]string{}}) {
		t.Errorf("left %+v", got)
	}
}
