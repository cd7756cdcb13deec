package garbagecollector

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/internal/loop"
)

// Config tunes the collector; zero values are kube's.
type Config struct {
	// Period is how often discovery is read again (new resources get
	// watched) and the graph is looked through for work: kube's 30s.
	Period time.Duration
}

func (c Config) withDefaults() Config {
	if c.Period <= 0 {
		c.Period = 30 * time.Second
	}
	return c
}

// InformerFactory makes the collector's informers, one per resource: a
// metadata informer factory in the server (only objects' metadata is sent
// and decoded, as kube's collector watches), a dynamic one otherwise.
type InformerFactory interface {
	ForResource(gvr schema.GroupVersionResource) informers.GenericInformer
	Start(stopCh <-chan struct{})
	Shutdown()
}

// Controller is the garbage collector. Work keys are object UIDs.
type Controller struct {
	dyn      dynamic.Interface
	disc     discovery.DiscoveryInterface
	factory  InformerFactory
	recorder record.EventRecorder
	graph    *graph
	queue    workqueue.TypedRateLimitingInterface[types.UID]
	clock    clock.WithTicker
	log      *slog.Logger
	cfg      Config

	mu      sync.Mutex
	res     resources
	watched map[schema.GroupVersionResource]cache.SharedIndexInformer
}

// New builds the collector on a dynamic client (reads and writes),
// informers from factory (nil: dynamic informers on dyn) and discovery;
// its caches keep metadata only (metadataOnly). Its events go to recorder.
func New(dyn dynamic.Interface, factory InformerFactory, disc discovery.DiscoveryInterface, recorder record.EventRecorder,
	log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	if factory == nil {
		factory = dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0)
	}
	return &Controller{dyn: dyn, disc: disc, recorder: recorder, log: log, clock: clk, cfg: cfg.withDefaults(),
		factory: factory,
		graph:   newGraph(),
		queue:   loop.NewQueue[types.UID](clk, "garbagecollector"),
		res:     resources{},
		watched: map[schema.GroupVersionResource]cache.SharedIndexInformer{},
	}
}

// Run waits for discovery to answer, watches what it found, and collects
// until ctx ends; it returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	defer c.factory.Shutdown()
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		if err := c.rediscover(ctx); err != nil {
			c.log.Warn("waiting for discovery", "err", err)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		c.queue.ShutDown()
		return
	}
	loop.Run(ctx, c.queue, []cache.InformerSynced{c.synced}, c.sync, c.log, c.clock, c.cfg.Period, func() {
		if err := c.rediscover(ctx); err != nil {
			c.log.Warn("discovery", "err", err)
		}
		c.resync()
	})
}

// rediscover reads discovery and starts watching resources not watched yet.
func (c *Controller) rediscover(ctx context.Context) error {
	res, err := discover(c.disc)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.res = res
	for _, r := range res {
		if !r.watch || c.watched[r.gvr] != nil {
			continue
		}
		inf := c.factory.ForResource(r.gvr).Informer()
		if err := inf.SetTransform(metadataOnly); err != nil {
			c.mu.Unlock()
			return fmt.Errorf("watch %s: %w", r.gvr, err)
		}
		if _, err := inf.AddEventHandler(c.handler(r)); err != nil {
			c.mu.Unlock()
			return fmt.Errorf("watch %s: %w", r.gvr, err)
		}
		c.watched[r.gvr] = inf
	}
	c.mu.Unlock()
	c.factory.Start(ctx.Done())
	return nil
}

func (c *Controller) resources() resources {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.res
}

// synced tells whether every watched resource's informer has listed.
func (c *Controller) synced() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, inf := range c.watched {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

func (c *Controller) handler(r resource) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.observe(r, obj) },
		UpdateFunc: func(_, obj any) { c.observe(r, obj) },
		DeleteFunc: c.forget,
	}
}

// observe records an added or changed object and queues what it may
// have made collectable.
func (c *Controller) observe(r resource, obj any) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	n := newNode(r, m)
	old := c.graph.upsert(n)
	if old == nil {
		for _, p := range c.graph.misplaced(n) {
			c.reportMisplaced(p)
			c.queue.Add(p.dependent.uid)
		}
	}
	if n.orphan || n.foreground {
		c.queue.Add(n.uid)
	}
	if n.foreground && (old == nil || !old.foreground) {
		for _, dep := range c.graph.dependentsOf(n.uid) {
			c.queue.Add(dep.uid)
		}
	}
	if len(n.owners) > 0 && c.graph.suspect(n) {
		c.queue.Add(n.uid)
	}
	c.queueWaitingOwners(n)
	if old != nil {
		c.queueWaitingOwners(old)
	}
}

// forget drops a deleted object: its dependents may now be orphans, and
// an owner waiting for it may now be free to go.
func (c *Controller) forget(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	n := c.graph.remove(m.GetUID())
	if n == nil {
		return
	}
	for _, dep := range c.graph.dependentsOf(n.uid) {
		c.queue.Add(dep.uid)
	}
	c.queueWaitingOwners(n)
}

// queueWaitingOwners queues n's owners that are deleting their dependents.
func (c *Controller) queueWaitingOwners(n *node) {
	for _, ref := range n.owners {
		if o := c.graph.get(ref.UID); o != nil && o.foreground {
			c.queue.Add(o.uid)
		}
	}
}

// resync queues every object that has collector work pending.
func (c *Controller) resync() {
	for _, n := range c.graph.all() {
		if n.orphan || n.foreground || (len(n.owners) > 0 && c.graph.suspect(n)) {
			c.queue.Add(n.uid)
		}
	}
}

// reportMisplaced is kube's OwnerRefInvalidNamespace event on a dependent
// that names an owner seen in another namespace.
func (c *Controller) reportMisplaced(p misplacedRef) {
	d := p.dependent
	ref := &corev1.ObjectReference{Kind: d.res.kind, APIVersion: d.res.gvr.GroupVersion().String(),
		Namespace: d.namespace, Name: d.name, UID: d.uid}
	owner := fmt.Sprintf("[%s/%s, namespace: %s, name: %s, uid: %s]", p.ref.APIVersion, p.ref.Kind, d.namespace, p.ref.Name, p.ref.UID)
	c.recorder.Eventf(ref, corev1.EventTypeWarning, "OwnerRefInvalidNamespace", "ownerRef %s does not exist in namespace %q", owner, d.namespace)
}
