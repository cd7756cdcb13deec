package replicaset

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

	"github.com/nodeagent/nodeagent/controllers/internal/expect"
	"github.com/nodeagent/nodeagent/controllers/internal/loop"
)

// Recorder records events (client-go's record.EventRecorder's method).
type Recorder interface {
	Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...any)
}

// Config tunes the controller. Zero fields take their defaults.
type Config struct {
	// BurstReplicas bounds the pods created or deleted in one sync of a
	// ReplicaSet. Default 500 (kube's).
	BurstReplicas int
	// ResyncPeriod is how often every ReplicaSet is synced again. Default 30s.
	ResyncPeriod time.Duration
}

func (c Config) withDefaults() Config {
	if c.BurstReplicas <= 0 {
		c.BurstReplicas = 500
	}
	if c.ResyncPeriod <= 0 {
		c.ResyncPeriod = 30 * time.Second
	}
	return c
}

// Controller keeps ReplicaSets' pods: a queue of ReplicaSet keys
// ("namespace/name").
type Controller struct {
	client kubernetes.Interface
	sets   appslisters.ReplicaSetLister
	pods   corelisters.PodLister
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	exp    *expect.Expectations[string]
	rec    Recorder
	clock  clock.WithTicker
	cfg    Config
	log    *slog.Logger
}

// New wires the controller to ReplicaSet and Pod informers from factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, rec Recorder, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	sets, pods := factory.Apps().V1().ReplicaSets(), factory.Core().V1().Pods()
	c := &Controller{client: client, sets: sets.Lister(), pods: pods.Lister(),
		synced: []cache.InformerSynced{sets.Informer().HasSynced, pods.Informer().HasSynced},
		exp:    expect.New[string](clk.Now), rec: rec, clock: clk, cfg: cfg.withDefaults(), log: log,
		queue: loop.NewQueue[string](clk, "replicaset"),
	}
	sets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueSet,
		UpdateFunc: func(_, obj any) { c.enqueueSet(obj) },
		DeleteFunc: c.deleteSet,
	})
	pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	return c
}

// Run keeps ReplicaSets until ctx ends, and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, c.cfg.ResyncPeriod, c.enqueueAll)
}

func (c *Controller) enqueueAll() {
	sets, _ := c.sets.List(labels.Everything())
	for _, rs := range sets {
		c.enqueueSet(rs)
	}
}

func (c *Controller) enqueueSet(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

func (c *Controller) deleteSet(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.exp.Forget(key)
		c.queue.Add(key)
	}
}

func (c *Controller) addPod(obj any) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		c.deletePod(pod)
		return
	}
	if rs := c.owner(pod); rs != nil {
		key := rs.Namespace + "/" + rs.Name
		c.exp.Created(key)
		c.queue.Add(key)
		return
	}
	if metav1.GetControllerOfNoCopy(pod) == nil {
		c.enqueueMatching(pod)
	}
}

// updatePod queues the old and new owner; an orphan whose labels or owner
// changed queues the ReplicaSets that may adopt it. A pod that became
// ready is queued again once minReadySeconds have passed, to count it
// available.
func (c *Controller) updatePod(oldObj, obj any) {
	old, pod := oldObj.(*corev1.Pod), obj.(*corev1.Pod)
	if oldRef, ref := metav1.GetControllerOfNoCopy(old), metav1.GetControllerOfNoCopy(pod); oldRef != nil && (ref == nil || ref.UID != oldRef.UID) {
		if rs := c.owner(old); rs != nil {
			c.queue.Add(rs.Namespace + "/" + rs.Name)
		}
	}
	if pod.DeletionTimestamp != nil {
		c.deletePod(pod)
		return
	}
	if rs := c.owner(pod); rs != nil {
		key := rs.Namespace + "/" + rs.Name
		c.queue.Add(key)
		if !IsPodReady(old) && IsPodReady(pod) && rs.Spec.MinReadySeconds > 0 {
			c.queue.AddAfter(key, time.Duration(rs.Spec.MinReadySeconds)*time.Second)
		}
		return
	}
	if metav1.GetControllerOfNoCopy(pod) == nil {
		c.enqueueMatching(pod)
	}
}

func (c *Controller) deletePod(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if rs := c.owner(pod); rs != nil {
		key := rs.Namespace + "/" + rs.Name
		c.exp.Deleted(key, pod.Namespace+"/"+pod.Name)
		c.queue.Add(key)
	}
}

// owner is the ReplicaSet the pod's controller reference names, if it
// exists with that UID.
func (c *Controller) owner(pod *corev1.Pod) *appsv1.ReplicaSet {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return nil
	}
	rs, err := c.sets.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return nil
	}
	return rs
}

// enqueueMatching queues the ReplicaSets whose selector matches the orphan.
func (c *Controller) enqueueMatching(pod *corev1.Pod) {
	if len(pod.Labels) == 0 {
		return
	}
	sets, err := c.sets.ReplicaSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, rs := range sets {
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(pod.Labels)) {
			c.queue.Add(rs.Namespace + "/" + rs.Name)
		}
	}
}
