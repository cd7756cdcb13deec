package endpointslicemirroring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	discoveryv1client "k8s.io/client-go/kubernetes/typed/discovery/v1"
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
	// MaxEndpointsPerSubset bounds what is mirrored of one subset.
	// Default 1000.
	MaxEndpointsPerSubset int
	// ResyncPeriod is how often every Endpoints, and the service of every
	// mirrored slice, is synced again. Default 5m.
	ResyncPeriod time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxEndpointsPerSubset <= 0 {
		c.MaxEndpointsPerSubset = MaxEndpointsPerSubset
	}
	if c.ResyncPeriod <= 0 {
		c.ResyncPeriod = 5 * time.Minute
	}
	return c
}

// Controller mirrors Endpoints of services without a selector: a queue of
// keys ("namespace/name", an Endpoints' and its Service's).
type Controller struct {
	client    kubernetes.Interface
	services  corelisters.ServiceLister
	endpoints corelisters.EndpointsLister
	slices    discoverylisters.EndpointSliceLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	clock     clock.WithTicker
	cfg       Config
	log       *slog.Logger
}

// New wires the controller to Endpoints, Service and EndpointSlice
// informers from factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	svcs, eps, slices := factory.Core().V1().Services(), factory.Core().V1().Endpoints(), factory.Discovery().V1().EndpointSlices()
	c := &Controller{client: client, services: svcs.Lister(), endpoints: eps.Lister(), slices: slices.Lister(),
		synced: []cache.InformerSynced{svcs.Informer().HasSynced, eps.Informer().HasSynced, slices.Informer().HasSynced},
		clock:  clk, cfg: cfg.withDefaults(), log: log,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Clock: clk, Name: "endpointslicemirroring"}),
	}
	for _, inf := range []cache.SharedIndexInformer{svcs.Informer(), eps.Informer()} {
		inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueObject,
			UpdateFunc: func(_, obj any) { c.enqueueObject(obj) },
			DeleteFunc: c.enqueueObject,
		})
	}
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

// enqueueSlice queues the key of a mirrored slice (someone may have
// changed or deleted it).
func (c *Controller) enqueueSlice(obj any) {
	if key, ok := svckeys.OfSlice(obj, ManagedBy); ok {
		c.queue.Add(key)
	}
}

// Run mirrors until ctx ends, and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, c.cfg.ResyncPeriod, c.enqueueAll)
}

func (c *Controller) enqueueAll() {
	eps, _ := c.endpoints.List(labels.Everything())
	for _, ep := range eps {
		c.queue.Add(ep.Namespace + "/" + ep.Name)
	}
	slices, _ := c.slices.List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelManagedBy: ManagedBy}))
	for _, s := range slices {
		c.enqueueSlice(s)
	}
}

// sync mirrors one key's Endpoints, or deletes its mirrored slices when
// it should not be mirrored.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	ep, err := c.endpoints.Endpoints(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("get endpoints %s from cache: %w", key, err)
	}
	svc, svcErr := c.services.Services(ns).Get(name)
	if svcErr != nil && !apierrors.IsNotFound(svcErr) {
		return fmt.Errorf("get service %s from cache: %w", key, svcErr)
	}
	if err != nil || svcErr != nil || !ShouldMirror(ep, svc) {
		return c.deleteMirrored(ctx, key, ns, name)
	}
	existing, err := c.existing(ctx, ns, name)
	if err != nil {
		return err
	}
	return c.apply(ctx, key, Plan(Desired(ep, svc, c.cfg.MaxEndpointsPerSubset), existing))
}

func selectorFor(name string) labels.Selector {
	return labels.SelectorFromSet(labels.Set{discoveryv1.LabelManagedBy: ManagedBy, discoveryv1.LabelServiceName: name})
}

// deleteMirrored deletes the key's mirrored slices the cache shows (a
// slice it does not show yet is seen, and deleted, when its add event
// queues the key again).
func (c *Controller) deleteMirrored(ctx context.Context, key, ns, name string) error {
	cached, err := c.slices.EndpointSlices(ns).List(selectorFor(name))
	if err != nil {
		return fmt.Errorf("list mirrored slices of %s from cache: %w", key, err)
	}
	return c.apply(ctx, key, Actions{Delete: cached})
}

// existing lists the key's mirrored slices from the API server, not the
// cache: a cache that lags behind this controller's last create would
// have it create the slice twice.
func (c *Controller) existing(ctx context.Context, ns, name string) ([]*discoveryv1.EndpointSlice, error) {
	list, err := c.client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: selectorFor(name).String()})
	if err != nil {
		return nil, fmt.Errorf("list mirrored slices of %s/%s: %w", ns, name, err)
	}
	out := make([]*discoveryv1.EndpointSlice, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}

// apply writes creates, then updates, then deletes.
func (c *Controller) apply(ctx context.Context, key string, a Actions) error {
	if a.Empty() {
		return nil
	}
	api := func(ns string) discoveryTyped { return c.client.DiscoveryV1().EndpointSlices(ns) }
	var errs []error
	for _, s := range a.Create {
		if _, err := api(s.Namespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("create mirrored slice for %s: %w", key, err))
		}
	}
	for _, s := range a.Update {
		if _, err := api(s.Namespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("update mirrored slice %s/%s: %w", s.Namespace, s.Name, err))
		}
	}
	for _, s := range a.Delete {
		uid := s.UID
		err := api(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete mirrored slice %s/%s: %w", s.Namespace, s.Name, err))
		}
	}
	c.log.Debug("mirrored slices synced", "endpoints", key, "created", len(a.Create), "updated", len(a.Update), "deleted", len(a.Delete))
	return errors.Join(errs...)
}

type discoveryTyped = discoveryv1client.EndpointSliceInterface
