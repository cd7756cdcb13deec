package cronjob

import (
	"context"
	"log/slog"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
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
	// ResyncPeriod is how often every cronjob is synced again. Default 1m.
	ResyncPeriod time.Duration
}

type key struct{ namespace, name string }

// Controller is kube's cronjob controller (the v2 one).
type Controller struct {
	client   kubernetes.Interface
	cronjobs batchlisters.CronJobLister
	jobs     batchlisters.JobLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[key]
	recorder Recorder
	clock    clock.WithTicker
	period   time.Duration
	log      *slog.Logger
	// cacheClock times the wait for the cache (real time).
	cacheClock clock.PassiveClock

	mu      sync.Mutex
	written map[types.UID]written // the status each cronjob was last given
}

// written is the status the controller last wrote, to tell a stale
// cached cronjob (whose newer copy is on its way) from a changed one.
type written struct {
	fingerprint string
	at          time.Time
}

// New wires the controller to cronjob and job informers from factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder Recorder, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	cronjobs, jobs := factory.Batch().V1().CronJobs(), factory.Batch().V1().Jobs()
	c := &Controller{client: client, cronjobs: cronjobs.Lister(), jobs: jobs.Lister(), recorder: recorder, clock: clk, log: log,
		period: cfg.ResyncPeriod, written: map[types.UID]written{}, cacheClock: clock.RealClock{},
		synced: []cache.InformerSynced{cronjobs.Informer().HasSynced, jobs.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[key](),
			workqueue.TypedRateLimitingQueueConfig[key]{Clock: clk}),
	}
	if c.period <= 0 {
		c.period = time.Minute
	}
	cronjobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.cronJobChanged,
		UpdateFunc: func(_, obj any) { c.cronJobChanged(obj) },
		DeleteFunc: c.cronJobDeleted,
	})
	jobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.jobChanged,
		UpdateFunc: func(_, obj any) { c.jobChanged(obj) },
		DeleteFunc: c.jobChanged,
	})
	return c
}

func (c *Controller) cronJobChanged(obj any) {
	if cj, ok := obj.(*batchv1.CronJob); ok {
		c.queue.Add(key{cj.Namespace, cj.Name})
	}
}

func (c *Controller) cronJobDeleted(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if cj, ok := obj.(*batchv1.CronJob); ok {
		c.mu.Lock()
		delete(c.written, cj.UID)
		c.mu.Unlock()
	}
}

// jobChanged queues the cronjob that controls the job.
func (c *Controller) jobChanged(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOf(job); ref != nil && ref.Kind == "CronJob" && ref.APIVersion == "batch/v1" {
		c.queue.Add(key{job.Namespace, ref.Name})
	}
}

// Run syncs until ctx ends and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, c.period, c.resync)
}

func (c *Controller) resync() {
	cjs, _ := c.cronjobs.List(labels.Everything())
	for _, cj := range cjs {
		c.cronJobChanged(cj)
	}
}
