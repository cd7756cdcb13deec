package deployment

import (
	"context"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/internal/loop"
)

// Recorder records events (client-go's record.EventRecorder's method).
type Recorder interface {
	Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...any)
}

// Config tunes the controller. Zero fields take their defaults.
type Config struct {
	// ResyncPeriod is how often every Deployment is synced again. Default 30s.
	ResyncPeriod time.Duration
}

func (c Config) withDefaults() Config {
	if c.ResyncPeriod <= 0 {
		c.ResyncPeriod = 30 * time.Second
	}
	return c
}

// Controller rolls Deployments out through ReplicaSets: a queue of
// Deployment keys ("namespace/name").
type Controller struct {
	client      kubernetes.Interface
	deployments appslisters.DeploymentLister
	sets        appslisters.ReplicaSetLister
	pods        corelisters.PodLister
	synced      []cache.InformerSynced
	queue       workqueue.TypedRateLimitingInterface[string]
	rec         Recorder
	clock       clock.WithTicker
	cfg         Config
	log         *slog.Logger
}

// New wires the controller to Deployment, ReplicaSet and Pod informers
// from factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, rec Recorder, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	ds, sets, pods := factory.Apps().V1().Deployments(), factory.Apps().V1().ReplicaSets(), factory.Core().V1().Pods()
	c := &Controller{client: client, deployments: ds.Lister(), sets: sets.Lister(), pods: pods.Lister(),
		synced: []cache.InformerSynced{ds.Informer().HasSynced, sets.Informer().HasSynced, pods.Informer().HasSynced},
		rec:    rec, clock: clk, cfg: cfg.withDefaults(), log: log,
		queue: loop.NewQueue[string](clk, "deployment"),
	}
	ds.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	})
	sets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.setChanged(nil, obj) },
		UpdateFunc: c.setChanged,
		DeleteFunc: func(obj any) { c.setChanged(nil, obj) },
	})
	pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.podDeleted})
	return c
}

// Run keeps Deployments until ctx ends, and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, c.cfg.ResyncPeriod, c.enqueueAll)
}

func (c *Controller) enqueueAll() {
	ds, _ := c.deployments.List(labels.Everything())
	for _, d := range ds {
		c.enqueue(d)
	}
}

func (c *Controller) enqueue(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

// setChanged queues the Deployment that owns the ReplicaSet (before and
// after the change), or, for an orphan, every Deployment that may adopt it.
func (c *Controller) setChanged(oldObj, obj any) {
	for _, o := range []any{oldObj, obj} {
		if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
			o = t.Obj
		}
		rs, ok := o.(*appsv1.ReplicaSet)
		if !ok {
			continue
		}
		if d := c.owner(rs.Namespace, metav1.GetControllerOfNoCopy(rs)); d != nil {
			c.enqueue(d)
		} else if metav1.GetControllerOfNoCopy(rs) == nil {
			c.enqueueMatching(rs)
		}
	}
}

// podDeleted queues a Recreate Deployment whose old pods are going: it
// waits for them before scaling its new ReplicaSet up.
func (c *Controller) podDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	rs, err := c.sets.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	if d := c.owner(rs.Namespace, metav1.GetControllerOfNoCopy(rs)); d != nil && !isRollingUpdate(d) {
		c.enqueue(d)
	}
}

func (c *Controller) owner(ns string, ref *metav1.OwnerReference) *appsv1.Deployment {
	if ref == nil || ref.Kind != "Deployment" {
		return nil
	}
	d, err := c.deployments.Deployments(ns).Get(ref.Name)
	if err != nil || d.UID != ref.UID {
		return nil
	}
	return d
}

func (c *Controller) enqueueMatching(rs *appsv1.ReplicaSet) {
	ds, err := c.deployments.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, d := range ds {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(rs.Labels)) {
			c.enqueue(d)
		}
	}
}
