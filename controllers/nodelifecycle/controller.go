package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	coordinationlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/internal/loop"
)

// Config tunes the controller. Zero fields take their defaults.
type Config struct {
	// GracePeriod is how long a node may go without renewing its Lease
	// before its conditions go Unknown and it is tainted unreachable.
	// Default 40s (kube's --node-monitor-grace-period).
	GracePeriod time.Duration
	// MonitorPeriod is how often every node is checked. Default 5s
	// (kube's --node-monitor-period).
	MonitorPeriod time.Duration
	// LeaseNamespace holds the nodes' Leases. Default "kube-node-lease".
	LeaseNamespace string
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{GracePeriod: 40 * time.Second, MonitorPeriod: 5 * time.Second, LeaseNamespace: corev1.NamespaceNodeLease}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.GracePeriod <= 0 {
		c.GracePeriod = d.GracePeriod
	}
	if c.MonitorPeriod <= 0 {
		c.MonitorPeriod = d.MonitorPeriod
	}
	if c.LeaseNamespace == "" {
		c.LeaseNamespace = d.LeaseNamespace
	}
	return c
}

// Controller is the node lifecycle controller: a queue of node names.
type Controller struct {
	client kubernetes.Interface
	nodes  corelisters.NodeLister
	leases coordinationlisters.LeaseLister
	pods   corelisters.PodLister
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	clock  clock.WithTicker
	cfg    Config
	log    *slog.Logger
}

// New wires the controller to node, lease and pod informers from factory. clk
// drives the monitor period, the work queue's delays and "now".
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	cfg = cfg.withDefaults()
	nodes, leases, pods := factory.Core().V1().Nodes(), factory.Coordination().V1().Leases(), factory.Core().V1().Pods()
	c := &Controller{client: client, nodes: nodes.Lister(), leases: leases.Lister(), pods: pods.Lister(), clock: clk, cfg: cfg, log: log,
		synced: []cache.InformerSynced{nodes.Informer().HasSynced, leases.Informer().HasSynced, pods.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Clock: clk}),
	}
	nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueNode,
		UpdateFunc: func(_, obj any) { c.enqueueNode(obj) },
	})
	leases.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueLease,
		UpdateFunc: func(_, obj any) { c.enqueueLease(obj) },
	})
	return c
}

func (c *Controller) enqueueNode(obj any) {
	if n, ok := obj.(*corev1.Node); ok {
		c.queue.Add(n.Name)
	}
}

// enqueueLease: a node's Lease has the node's name.
func (c *Controller) enqueueLease(obj any) {
	if l, ok := obj.(*coordinationv1.Lease); ok && l.Namespace == c.cfg.LeaseNamespace {
		c.queue.Add(l.Name)
	}
}

// Run watches nodes until ctx ends, and returns once its goroutines have.
// Every monitor period it queues every node: a node that has gone silent
// produces no event to react to.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, c.cfg.MonitorPeriod, c.enqueueAll)
}

func (c *Controller) enqueueAll() {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		c.log.Warn("list nodes from cache", "err", err)
		return
	}
	for _, n := range nodes {
		c.queue.Add(n.Name)
	}
}

// sync evaluates one node and applies the decision: conditions through
// nodes/status first, then taints through the node itself; then, while
// the node is silent (Ready Unknown), its pods still Ready are marked not
// Ready (every check, so that a failed write is tried again).
func (c *Controller) sync(ctx context.Context, name string) error {
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get node %s from cache: %w", name, err)
	}
	lease, err := c.lease(name)
	if err != nil {
		return err
	}
	now := c.clock.Now()
	d := Evaluate(node, lease, now, c.cfg.GracePeriod)
	if !d.Empty() {
		if node, err = c.apply(ctx, node, d, now); err != nil {
			return err
		}
	}
	if !silent(node) {
		return nil
	}
	return c.markPodsNotReady(ctx, node.Name, now)
}

// markPodsNotReady writes Ready=False on the node's pods that are Ready.
func (c *Controller) markPodsNotReady(ctx context.Context, nodeName string, now time.Time) error {
	all, err := c.pods.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("list pods from cache: %w", err)
	}
	var errs []error
	for _, p := range PodsNotReady(all, nodeName, now) {
		_, err := c.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			errs = append(errs, fmt.Errorf("mark pod %s/%s not ready: %w", p.Namespace, p.Name, err))
		default:
			c.log.Info("pod marked not ready: its node stopped reporting", "pod", p.Namespace+"/"+p.Name, "node", nodeName)
		}
	}
	return errors.Join(errs...)
}

// lease returns the node's Lease, or nil when it has none.
func (c *Controller) lease(name string) (*coordinationv1.Lease, error) {
	l, err := c.leases.Leases(c.cfg.LeaseNamespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get lease %s/%s from cache: %w", c.cfg.LeaseNamespace, name, err)
	}
	return l, nil
}

// apply writes d and returns the node as last written.
func (c *Controller) apply(ctx context.Context, node *corev1.Node, d Decision, now time.Time) (*corev1.Node, error) {
	nodes := c.client.CoreV1().Nodes()
	if len(d.MarkUnknown) > 0 {
		updated, err := nodes.UpdateStatus(ctx, withConditions(node, d.MarkUnknown, now), metav1.UpdateOptions{})
		if err != nil {
			return nil, fmt.Errorf("mark node %s conditions unknown: %w", node.Name, err)
		}
		c.log.Info("node stopped reporting", "node", node.Name, "conditions", len(d.MarkUnknown))
		node = updated
	}
	if len(d.AddTaints) == 0 && len(d.RemoveTaints) == 0 {
		return node, nil
	}
	updated, err := nodes.Update(ctx, withTaints(node, d.AddTaints, d.RemoveTaints), metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("update taints of node %s: %w", node.Name, err)
	}
	c.log.Info("node taints", "node", node.Name, "added", taintStrings(d.AddTaints), "removed", taintStrings(d.RemoveTaints))
	return updated, nil
}

func taintStrings(ts []corev1.Taint) []string {
	out := make([]string, len(ts))
	for i := range ts {
		out[i] = ts[i].ToString()
	}
	return out
}
