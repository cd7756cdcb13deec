package endpoints

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/internal/loop"
	"github.com/nodeagent/nodeagent/controllers/internal/svckeys"
)

// Config tunes the controller. Zero fields take their defaults.
type Config struct {
	// MaxCapacity bounds the addresses of one Endpoints. Default 1000.
	MaxCapacity int
	// ResyncPeriod is how often every service, and the service of every
	// managed Endpoints, is synced again. Default 5m.
	ResyncPeriod time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxCapacity <= 0 {
		c.MaxCapacity = MaxCapacity
	}
	if c.ResyncPeriod <= 0 {
		c.ResyncPeriod = 5 * time.Minute
	}
	return c
}

// Controller keeps the Endpoints of services with a selector: a queue of
// service keys ("namespace/name").
type Controller struct {
	client    kubernetes.Interface
	services  corelisters.ServiceLister
	pods      corelisters.PodLister
	endpoints corelisters.EndpointsLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	triggers  *triggerTimes
	clock     clock.WithTicker
	cfg       Config
	log       *slog.Logger
}

// New wires the controller to service, pod and Endpoints informers from
// factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	svcs, pods, eps := factory.Core().V1().Services(), factory.Core().V1().Pods(), factory.Core().V1().Endpoints()
	c := &Controller{client: client, services: svcs.Lister(), pods: pods.Lister(), endpoints: eps.Lister(),
		synced:   []cache.InformerSynced{svcs.Informer().HasSynced, pods.Informer().HasSynced, eps.Informer().HasSynced},
		triggers: newTriggerTimes(), clock: clk, cfg: cfg.withDefaults(), log: log,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Clock: clk, Name: "endpoints"}),
	}
	// An Endpoints' key is its service's.
	for _, inf := range []cache.SharedIndexInformer{svcs.Informer(), eps.Informer()} {
		inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueObject,
			UpdateFunc: func(_, obj any) { c.enqueueObject(obj) },
			DeleteFunc: c.enqueueObject,
		})
	}
	pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.enqueuePod(obj, nil) },
		UpdateFunc: func(old, obj any) { c.enqueuePod(obj, old) },
		DeleteFunc: func(obj any) { c.enqueuePod(obj, nil) },
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

// Run keeps Endpoints until ctx ends, and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, c.cfg.ResyncPeriod, c.enqueueAll)
}

func (c *Controller) enqueueAll() {
	svcs, _ := c.services.List(labels.Everything())
	for _, s := range svcs {
		c.queue.Add(s.Namespace + "/" + s.Name)
	}
	eps, _ := c.endpoints.List(labels.SelectorFromSet(labels.Set{LabelManagedBy: ControllerName}))
	for _, ep := range eps {
		c.queue.Add(ep.Namespace + "/" + ep.Name)
	}
}

// managed: services with a selector, not ExternalName, get Endpoints from
// here.
func managed(svc *corev1.Service) bool {
	return len(svc.Spec.Selector) > 0 && svc.Spec.Type != corev1.ServiceTypeExternalName
}

// sync computes and writes one service's Endpoints.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cur, err := c.endpoints.Endpoints(ns).Get(name)
	if apierrors.IsNotFound(err) {
		cur, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("get endpoints %s from cache: %w", key, err)
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) || (err == nil && !managed(svc)) {
		c.triggers.forget(key)
		return c.deleteManaged(ctx, cur)
	}
	if err != nil {
		return fmt.Errorf("get service %s from cache: %w", key, err)
	}
	pods, err := c.pods.Pods(ns).List(labels.SelectorFromSet(svc.Spec.Selector))
	if err != nil {
		return fmt.Errorf("list pods of service %s: %w", key, err)
	}
	subsets, truncated := Subsets(svc, pods, c.cfg.MaxCapacity)
	want := Build(svc, subsets, truncated, cur, c.triggers.next(key, svc, pods))
	if !NeedsWrite(cur, want) {
		return nil
	}
	return c.write(ctx, key, cur == nil, want)
}

// deleteManaged deletes ep if this controller keeps it (and it is still
// the object the cache saw).
func (c *Controller) deleteManaged(ctx context.Context, ep *corev1.Endpoints) error {
	if ep == nil || !Managed(ep) {
		return nil
	}
	uid := ep.UID
	err := c.client.CoreV1().Endpoints(ep.Namespace).Delete(ctx, ep.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete endpoints %s/%s: %w", ep.Namespace, ep.Name, err)
	}
	c.log.Debug("endpoints deleted", "service", ep.Namespace+"/"+ep.Name)
	return nil
}

// write creates or updates the Endpoints. A conflict (the cache lagged
// behind a write) is returned, so the key is retried with the newer copy.
func (c *Controller) write(ctx context.Context, key string, create bool, ep *corev1.Endpoints) error {
	var err error
	if create {
		_, err = c.client.CoreV1().Endpoints(ep.Namespace).Create(ctx, ep, metav1.CreateOptions{})
	} else {
		_, err = c.client.CoreV1().Endpoints(ep.Namespace).Update(ctx, ep, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("write endpoints %s: %w", key, err)
	}
	c.log.Debug("endpoints synced", "service", key, "subsets", len(ep.Subsets))
	return nil
}
