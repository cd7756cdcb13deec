package endpointslice

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/internal/loop"
	"github.com/nodeagent/nodeagent/controllers/internal/svckeys"
)

// Config tunes the controller. Zero fields take their defaults.
type Config struct {
	// MaxEndpointsPerSlice bounds a slice. Default 100.
	MaxEndpointsPerSlice int
	// ResyncPeriod is how often every service is synced again, also the
	// owners of slices whose service is gone. Default 5m.
	ResyncPeriod time.Duration
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{MaxEndpointsPerSlice: MaxEndpointsPerSlice, ResyncPeriod: 5 * time.Minute}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxEndpointsPerSlice <= 0 {
		c.MaxEndpointsPerSlice = d.MaxEndpointsPerSlice
	}
	if c.ResyncPeriod <= 0 {
		c.ResyncPeriod = d.ResyncPeriod
	}
	return c
}

// Controller keeps the EndpointSlices of services with a selector: a
// queue of service keys ("namespace/name").
type Controller struct {
	client   kubernetes.Interface
	services corelisters.ServiceLister
	pods     corelisters.PodLister
	slices   discoverylisters.EndpointSliceLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	written  *tracker
	clock    clock.WithTicker
	cfg      Config
	log      *slog.Logger
}

// New wires the controller to service, pod and EndpointSlice informers
// from factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	svcs, pods, slices := factory.Core().V1().Services(), factory.Core().V1().Pods(), factory.Discovery().V1().EndpointSlices()
	c := &Controller{client: client, services: svcs.Lister(), pods: pods.Lister(), slices: slices.Lister(),
		synced:  []cache.InformerSynced{svcs.Informer().HasSynced, pods.Informer().HasSynced, slices.Informer().HasSynced},
		written: newTracker(clk.Now), clock: clk, cfg: cfg.withDefaults(), log: log,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Clock: clk, Name: "endpointslice"}),
	}
	svcs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueObject,
		UpdateFunc: func(_, obj any) { c.enqueueObject(obj) },
		DeleteFunc: c.enqueueObject,
	})
	pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.enqueuePod(obj, nil) },
		UpdateFunc: func(old, obj any) { c.enqueuePod(obj, old) },
		DeleteFunc: func(obj any) { c.enqueuePod(obj, nil) },
	})
	slices.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueSlice,
		UpdateFunc: func(_, obj any) { c.enqueueSlice(obj) },
		DeleteFunc: c.enqueueSlice,
	})
	return c
}

func (c *Controller) enqueueObject(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

// enqueuePod queues the services whose selector matches the pod now or
// matched it before the change.
func (c *Controller) enqueuePod(obj, old any) {
	svckeys.SelectingPods(c.services, c.queue.Add, obj, old)
}

// enqueueSlice queues the service of a slice this controller manages.
func (c *Controller) enqueueSlice(obj any) {
	if key, ok := svckeys.OfSlice(obj, ManagedBy); ok {
		c.queue.Add(key)
	}
}

// Run keeps slices until ctx ends, and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, c.cfg.ResyncPeriod, c.enqueueAll)
}

// enqueueAll queues every service and the service of every managed slice
// (whose service may be gone).
func (c *Controller) enqueueAll() {
	svcs, _ := c.services.List(labels.Everything())
	for _, s := range svcs {
		c.queue.Add(s.Namespace + "/" + s.Name)
	}
	slices, _ := c.slices.List(managedSelector())
	for _, s := range slices {
		c.enqueueSlice(s)
	}
}

func managedSelector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{discoveryv1.LabelManagedBy: ManagedBy})
}

// sync computes and applies one service's slices.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	existing, err := c.existing(ctx, key, ns, name)
	if err != nil {
		return err
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) || (err == nil && !managed(svc)) {
		return c.apply(ctx, key, Actions{Delete: existing})
	}
	if err != nil {
		return fmt.Errorf("get service %s from cache: %w", key, err)
	}
	pods, err := c.pods.Pods(ns).List(labels.SelectorFromSet(svc.Spec.Selector))
	if err != nil {
		return fmt.Errorf("list pods of service %s: %w", key, err)
	}
	return c.apply(ctx, key, Plan(svc, Desired(svc, pods), existing, c.cfg.MaxEndpointsPerSlice))
}

// managed: services with a selector, not ExternalName, get slices from
// here; the slices of others are their users' (and any this controller
// made earlier go).
func managed(svc *corev1.Service) bool {
	return len(svc.Spec.Selector) > 0 && svc.Spec.Type != corev1.ServiceTypeExternalName
}

// existing returns the service's managed slices: from the cache, or from
// the API server while the cache has not caught up with this controller's
// own last writes (so that it never creates a slice twice).
func (c *Controller) existing(ctx context.Context, key, ns, name string) ([]*discoveryv1.EndpointSlice, error) {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelManagedBy: ManagedBy, discoveryv1.LabelServiceName: name})
	cached, err := c.slices.EndpointSlices(ns).List(sel)
	if err != nil {
		return nil, fmt.Errorf("list slices of %s from cache: %w", key, err)
	}
	if c.written.caughtUp(key, cached) {
		return cached, nil
	}
	list, err := c.client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1ListOptions(sel))
	if err != nil {
		return nil, fmt.Errorf("list slices of %s: %w", key, err)
	}
	out := make([]*discoveryv1.EndpointSlice, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}
