package nodeipam

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/internal/loop"
)

// Config is the range the controller hands out.
type Config struct {
	// ClusterCIDR is the pods' range, cut into the nodes' blocks.
	ClusterCIDR netip.Prefix
	// NodeMaskSize is the prefix length of a node's block. Default 24
	// (kube-controller-manager's --node-cidr-mask-size for IPv4).
	NodeMaskSize int
	// Reserved are ranges no Node is given: the server's own agent's,
	// before its Node registers.
	Reserved []netip.Prefix
}

// Controller gives Nodes without a pod range one: a queue of node names.
type Controller struct {
	client   kubernetes.Interface
	nodes    corelisters.NodeLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	blocks   blocks
	reserved []netip.Prefix
	recorder record.EventRecorder
	clock    clock.WithTicker
	log      *slog.Logger

	mu sync.Mutex
	// pending are blocks given by an update the informer has not shown
	// yet, by node name: another node must not get them meanwhile.
	pending map[string]netip.Prefix
}

// New wires the controller to the Node informer of factory. It refuses a
// mask size that does not fit the cluster CIDR.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder,
	log *slog.Logger, clk clock.WithTicker, cfg Config) (*Controller, error) {
	if cfg.NodeMaskSize == 0 {
		cfg.NodeMaskSize = 24
	}
	b, err := newBlocks(cfg.ClusterCIDR, cfg.NodeMaskSize)
	if err != nil {
		return nil, err
	}
	nodes := factory.Core().V1().Nodes()
	c := &Controller{client: client, nodes: nodes.Lister(), synced: []cache.InformerSynced{nodes.Informer().HasSynced},
		queue: loop.NewQueue[string](clk, "nodeipam"), blocks: b, reserved: cfg.Reserved, recorder: recorder, clock: clk, log: log,
		pending: map[string]netip.Prefix{}}
	nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: c.forget,
	})
	return c, nil
}

func (c *Controller) enqueue(obj any) {
	if n, ok := obj.(*corev1.Node); ok && n.Spec.PodCIDR == "" {
		c.queue.Add(n.Name)
	} else if ok {
		c.mu.Lock()
		delete(c.pending, n.Name) // the informer shows its range now
		c.mu.Unlock()
	}
}

func (c *Controller) forget(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if n, ok := obj.(*corev1.Node); ok {
		c.mu.Lock()
		delete(c.pending, n.Name)
		c.mu.Unlock()
	}
}

// Run syncs nodes until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	c.log.Info("node IPAM", "cluster-cidr", c.blocks.cluster.String(), "node-cidr-mask-size", c.blocks.bits)
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, time.Minute, func() {})
}

// sync gives the node its block when it has none.
func (c *Controller) sync(ctx context.Context, name string) error {
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) || (err == nil && node.Spec.PodCIDR != "") {
		return nil
	}
	if err != nil {
		return err
	}
	block, err := c.reserve(name)
	if err != nil {
		c.recorder.Eventf(node, corev1.EventTypeWarning, "CIDRNotAvailable", "Node %s status is now: CIDRNotAvailable", name)
		return fmt.Errorf("node %s: %w", name, err)
	}
	next := node.DeepCopy()
	next.Spec.PodCIDR, next.Spec.PodCIDRs = block.String(), []string{block.String()}
	if _, err := c.client.CoreV1().Nodes().Update(ctx, next, metav1.UpdateOptions{}); err != nil {
		c.release(name)
		return fmt.Errorf("node %s: set podCIDR %s: %w", name, block, err)
	}
	c.log.Info("pod range assigned", "node", name, "podCIDR", block.String())
	return nil
}

// reserve picks the lowest block no node uses and no other update holds.
func (c *Controller) reserve(name string) (netip.Prefix, error) {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return netip.Prefix{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pending[name]; ok {
		return p, nil
	}
	used := slices.Clone(c.reserved)
	for _, n := range nodes {
		for _, s := range append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...) {
			if p, err := netip.ParsePrefix(s); err == nil {
				used = append(used, p.Masked())
			}
		}
	}
	for _, p := range c.pending {
		used = append(used, p)
	}
	p, err := c.blocks.lowestFree(used)
	if err != nil {
		return p, err
	}
	c.pending[name] = p
	return p, nil
}

func (c *Controller) release(name string) {
	c.mu.Lock()
	delete(c.pending, name)
	c.mu.Unlock()
}
