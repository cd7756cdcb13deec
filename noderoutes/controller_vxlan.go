package noderoutes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Publisher puts this node's VTEP MAC on its own Node.
type Publisher interface {
	PublishMAC(ctx context.Context, mac string) error
}

// NodeAnnotator publishes with the node's own credentials: a merge patch
// of MACAnnotation on its Node, which kube's Node authorizer and
// NodeRestriction allow a node on its own Node alone.
type NodeAnnotator struct {
	Client kubernetes.Interface
	Node   string
}

// PublishMAC patches the annotation.
func (a NodeAnnotator) PublishMAC(ctx context.Context, mac string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{MACAnnotation: mac}}})
	if err == nil {
		_, err = a.Client.CoreV1().Nodes().Patch(ctx, a.Node, types.MergePatchType, patch, metav1.PatchOptions{})
	}
	if err != nil {
		return fmt.Errorf("publish VTEP MAC %s on node %s: %w", mac, a.Node, err)
	}
	return nil
}

// syncVXLAN makes the device from this node's Node, publishes its MAC,
// then makes the peers' routes, neighbour and FDB entries.
func (c *Controller) syncVXLAN(ctx context.Context, nodes []*corev1.Node) error {
	me, err := c.selfOf(nodes)
	if err != nil {
		c.report([]error{err}) // not yet registered, or no range yet: a Node event comes
		return nil
	}
	u, err := c.tunnel.Underlay(me.IP)
	if err != nil {
		return err
	}
	mac, err := c.tunnel.EnsureDevice(DeviceFor(me, u))
	if err != nil {
		return err
	}
	if mac != me.MAC {
		if err := c.publish.PublishMAC(ctx, mac); err != nil {
			return err
		}
		c.log.Info("VTEP MAC published", "device", DeviceName, "mac", mac, "annotation", MACAnnotation)
	}
	peers, problems := PeersOf(c.self, nodes)
	want, more := DesiredVXLAN(me.PodCIDRs, peers)
	c.report(append(problems, more...))
	return c.applyTables(want)
}

func (c *Controller) selfOf(nodes []*corev1.Node) (Self, error) {
	for _, n := range nodes {
		if n.Name == c.self {
			return SelfOf(n)
		}
	}
	return Self{}, fmt.Errorf("node %s: not registered yet", c.self)
}

// applyTables adds what a route needs before the route, and removes a
// route before what it needed.
func (c *Controller) applyTables(want Tables) error {
	haveFDB, err := c.tunnel.FDB(DeviceName)
	if err != nil {
		return err
	}
	haveNeigh, err := c.tunnel.Neighbors(DeviceName)
	if err != nil {
		return err
	}
	setF, delF := PlanFDB(want.FDB, haveFDB)
	setN, delN := PlanNeighbors(want.Neighbors, haveNeigh)
	t := c.tunnel
	return errors.Join(
		apply(c.log, "VTEP FDB entry", setF, func(f FDBEntry) error { return t.SetFDB(DeviceName, f) }),
		apply(c.log, "VTEP neighbour", setN, func(n Neighbor) error { return t.SetNeighbor(DeviceName, n) }),
		c.applyRoutes(want.Routes),
		apply(c.log, "VTEP neighbour removed", delN, func(n Neighbor) error { return t.DeleteNeighbor(DeviceName, n) }),
		apply(c.log, "VTEP FDB entry removed", delF, func(f FDBEntry) error { return t.DeleteFDB(DeviceName, f) }))
}
