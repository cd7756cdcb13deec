package scheduler

import (
	"context"
	"log/slog"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/internal/loop"
)

// DefaultSchedulerName is the scheduler name pods get when they name none.
const DefaultSchedulerName = "default-scheduler"

// Config tunes the scheduler. Zero fields take their defaults.
type Config struct {
	// SchedulerName selects the pods to bind: those whose
	// spec.schedulerName equals it. It is also the events' source
	// component. Default "default-scheduler".
	SchedulerName string
	// ResyncPeriod is how often every pending pod is tried again, whatever
	// changed in between. Default 30s.
	ResyncPeriod time.Duration
	// AssumeTTL bounds how long a binding made here counts against its node
	// while the informer does not show the pod bound yet. Default 30s.
	AssumeTTL time.Duration
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{SchedulerName: DefaultSchedulerName, ResyncPeriod: 30 * time.Second, AssumeTTL: 30 * time.Second}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.SchedulerName == "" {
		c.SchedulerName = d.SchedulerName
	}
	if c.ResyncPeriod <= 0 {
		c.ResyncPeriod = d.ResyncPeriod
	}
	if c.AssumeTTL <= 0 {
		c.AssumeTTL = d.AssumeTTL
	}
	return c
}

// Controller is the scheduler: a queue of pending pod keys, one worker.
type Controller struct {
	client  kubernetes.Interface
	pods    corelisters.PodLister
	unbound cache.Indexer // the pod informer's store, with unboundIndex
	nodes   corelisters.NodeLister
	volumes volumeListers
	synced  []cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	assumed *assumeCache
	events  *recorder
	clock   clock.WithTicker
	cfg     Config
	log     *slog.Logger
}

// New wires the scheduler to pod and node informers from factory. clk
// drives the resync, the work queue's delays and the timestamps written.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	cfg = cfg.withDefaults()
	pods, nodes := factory.Core().V1().Pods(), factory.Core().V1().Nodes()
	c := &Controller{client: client, pods: pods.Lister(), unbound: pods.Informer().GetIndexer(), nodes: nodes.Lister(), clock: clk, cfg: cfg, log: log,
		synced:  []cache.InformerSynced{pods.Informer().HasSynced, nodes.Informer().HasSynced},
		assumed: newAssumeCache(clk, cfg.AssumeTTL),
		events:  &recorder{client: client, clock: clk, component: cfg.SchedulerName},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Clock: clk}),
	}
	c.volumes = c.watchVolumes(factory)
	// An error is a started informer or a second scheduler on the
	// factory, whose index is the same; requeueAll then logs what is wrong.
	if err := pods.Informer().AddIndexers(cache.Indexers{unboundIndex: unboundPods}); err != nil {
		log.Warn("pod informer: index of unbound pods", "err", err)
	}
	pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podAdded,
		UpdateFunc: c.podUpdated,
		DeleteFunc: c.podDeleted,
	})
	nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.requeueAll() },
		UpdateFunc: c.nodeUpdated,
	})
	return c
}

// needsScheduling: unbound, ours, alive, not gated.
func needsScheduling(pod *corev1.Pod, schedulerName string) bool {
	return pod.Spec.NodeName == "" && pod.Spec.SchedulerName == schedulerName &&
		pod.DeletionTimestamp == nil && !terminal(pod) && len(pod.Spec.SchedulingGates) == 0
}

// holdsResources: a bound pod that still counts against its node.
func holdsResources(pod *corev1.Pod) bool {
	return pod.Spec.NodeName != "" && !terminal(pod)
}

func (c *Controller) podAdded(obj any) {
	if pod, ok := obj.(*corev1.Pod); ok && needsScheduling(pod, c.cfg.SchedulerName) {
		c.queue.Add(cache.MetaObjectToName(pod).String())
	}
}

// podUpdated queues a pending pod; a bound pod that finishes frees room,
// so every pending pod gets another chance.
func (c *Controller) podUpdated(oldObj, newObj any) {
	old, ok1 := oldObj.(*corev1.Pod)
	pod, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 {
		return
	}
	if holdsResources(old) && !holdsResources(pod) {
		c.requeueAll()
		return
	}
	c.podAdded(pod)
}

func (c *Controller) podDeleted(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if pod, ok := obj.(*corev1.Pod); ok && holdsResources(pod) {
		c.requeueAll()
	}
}

func (c *Controller) nodeUpdated(oldObj, newObj any) {
	old, ok1 := oldObj.(*corev1.Node)
	node, ok2 := newObj.(*corev1.Node)
	if ok1 && ok2 && schedulingChanged(old, node) {
		c.requeueAll()
	}
}

// schedulingChanged: a node update that can change a Filter verdict. The
// agent's periodic status writes (heartbeats) do not count.
func schedulingChanged(old, node *corev1.Node) bool {
	return nodeReady(old) != nodeReady(node) ||
		old.Spec.Unschedulable != node.Spec.Unschedulable ||
		!maps.Equal(old.Labels, node.Labels) ||
		!equality.Semantic.DeepEqual(old.Spec.Taints, node.Spec.Taints) ||
		!equality.Semantic.DeepEqual(old.Status.Allocatable, node.Status.Allocatable)
}

// unboundIndex indexes the pods without a node under "": a bound pod
// that goes requeues the pending ones, and with 10,000 pods bound, reading
// them all for each such delete made deleting them all quadratic.
const unboundIndex = "scheduler.nodeagent.io/unbound"

func unboundPods(obj any) ([]string, error) {
	if pod, ok := obj.(*corev1.Pod); ok && pod.Spec.NodeName == "" {
		return []string{""}, nil
	}
	return nil, nil
}

// requeueAll queues every pod that still waits for a node.
func (c *Controller) requeueAll() {
	pods, err := c.unbound.ByIndex(unboundIndex, "")
	if err != nil {
		c.log.Warn("unbound pods from cache", "err", err)
		return
	}
	for _, p := range pods {
		c.podAdded(p)
	}
}

// Run schedules pods until ctx ends, and returns once its goroutines have.
// Every resync period it retries every pending pod.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, c.cfg.ResyncPeriod, c.requeueAll)
}
