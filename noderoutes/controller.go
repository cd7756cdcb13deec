package noderoutes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/internal/kubecache"
)

// Resync is how often the routes are compared with the Nodes even when no
// Node changed, so a route someone removed comes back.
const Resync = 30 * time.Second

// Controller keeps this node's routes to the other nodes' pod ranges.
type Controller struct {
	self    string
	kernel  Kernel
	tunnel  Tunnel    // nil: host-gw leaves a VXLAN device alone
	publish Publisher // non-nil: the vxlan mode
	log     *slog.Logger
	clock   clock.WithTicker
	factory informers.SharedInformerFactory
	nodes   corelisters.NodeLister
	synced  cache.InformerSynced
	changed chan struct{}
	// said are the problems already logged, so each is said once.
	said map[string]bool
}

// Option is one of New's choices.
type Option func(*Controller)

// WithVXLAN selects the vxlan mode: the device through t, its MAC
// published through p.
func WithVXLAN(t Tunnel, p Publisher) Option {
	return func(c *Controller) { c.tunnel, c.publish = t, p }
}

// WithTunnel lets the host-gw mode remove the device the vxlan mode left.
func WithTunnel(t Tunnel) Option {
	return func(c *Controller) { c.tunnel = t }
}

// New watches every Node (a node may read them all, as kube-proxy does);
// the mode is host-gw unless WithVXLAN says otherwise.
func New(client kubernetes.Interface, self string, k Kernel, log *slog.Logger, clk clock.WithTicker, opts ...Option) (*Controller, error) {
	c := &Controller{self: self, kernel: k, log: log, clock: clk, changed: make(chan struct{}, 1), said: map[string]bool{}}
	for _, o := range opts {
		o(c)
	}
	c.factory = informers.NewSharedInformerFactoryWithOptions(client, 0, kubecache.Trimmed())
	inf := c.factory.Core().V1().Nodes()
	c.nodes, c.synced = inf.Lister(), inf.Informer().HasSynced
	poke := func(any) { c.poke() }
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: poke, DeleteFunc: poke,
		UpdateFunc: func(old, cur any) {
			if routeRelevant(old) != routeRelevant(cur) {
				c.poke()
			}
		},
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// routeRelevant is what of a Node the routes depend on.
func routeRelevant(obj any) string {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return ""
	}
	return fmt.Sprint(n.Spec.PodCIDR, n.Spec.PodCIDRs, n.Status.Addresses, n.Annotations[MACAnnotation])
}

func (c *Controller) poke() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// Run keeps the routes until ctx ends; the routes stay (pods keep their
// traffic across an agent restart). Cleanup removes them.
func (c *Controller) Run(ctx context.Context) {
	c.factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return
	}
	tick := c.clock.NewTicker(Resync)
	defer tick.Stop()
	for {
		if err := c.Sync(ctx); err != nil {
			c.log.Warn("node routes", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-c.changed:
		case <-tick.C():
		}
	}
}

// Sync makes what this package owns in the kernel what the Nodes call for.
func (c *Controller) Sync(ctx context.Context) error {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	if c.publish != nil {
		return c.syncVXLAN(ctx, nodes)
	}
	return c.syncHostGW(nodes)
}

func (c *Controller) syncHostGW(nodes []*corev1.Node) error {
	want, problems := c.desired(nodes)
	c.report(problems)
	err := c.applyRoutes(want)
	if c.tunnel == nil {
		return err
	}
	gone, derr := c.tunnel.DeleteDevice(DeviceName)
	if gone {
		c.log.Info("VXLAN device removed: the mode is host-gw", "device", DeviceName)
	}
	return errors.Join(err, derr)
}

// applyRoutes replaces and removes the owned routes to make them want.
func (c *Controller) applyRoutes(want []Route) error {
	have, err := c.kernel.Owned()
	if err != nil {
		return err
	}
	replace, remove := Plan(want, have)
	return errors.Join(
		apply(c.log, "route to a node's pods", replace, c.kernel.Replace),
		apply(c.log, "route to a node's pods removed", remove, c.kernel.Delete))
}

// apply runs do on each item, logs msg for each done, and goes on past
// failures, which it returns.
func apply[T fmt.Stringer](log *slog.Logger, msg string, items []T, do func(T) error) error {
	var errs []error
	for _, x := range items {
		if err := do(x); err != nil {
			errs = append(errs, err)
			continue
		}
		log.Info(msg, "entry", x.String())
	}
	return errors.Join(errs...)
}

// ownRanges are this node's own pod ranges.
func (c *Controller) ownRanges(nodes []*corev1.Node) []netip.Prefix {
	for _, n := range nodes {
		if n.Name == c.self {
			me, _ := PeersOf("", []*corev1.Node{n})
			for _, p := range me {
				return p.PodCIDRs
			}
		}
	}
	return nil
}

// desired are the routes the Nodes call for whose gateways this node
// reaches directly; the rest are problems to report.
func (c *Controller) desired(nodes []*corev1.Node) ([]Route, []error) {
	own := c.ownRanges(nodes)
	peers, problems := PeersOf(c.self, nodes)
	routes, more := Desired(own, peers)
	problems = append(problems, more...)
	var direct []Route
	for _, r := range routes {
		ok, err := c.kernel.Direct(r.Gw)
		switch {
		case err != nil:
			problems = append(problems, err)
		case !ok:
			problems = append(problems, fmt.Errorf("no route %s: %s is this node's own address or not on one of its links (host-gw needs the nodes on one network segment)", r, r.Gw))
		default:
			direct = append(direct, r)
		}
	}
	return direct, problems
}

// report logs each problem the first time it is seen.
func (c *Controller) report(problems []error) {
	now := map[string]bool{}
	for _, p := range problems {
		msg := p.Error()
		now[msg] = true
		if !c.said[msg] {
			c.log.Warn("node routes: a peer is not routed", "reason", msg)
		}
	}
	c.said = now
}
