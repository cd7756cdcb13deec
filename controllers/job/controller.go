package job

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
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
	// ResyncPeriod is how often every job is synced again. Default 1m.
	ResyncPeriod time.Duration
}

// key names a job, or (orphan) a pod whose job may be gone.
type key struct {
	orphan          bool
	namespace, name string
}

// Controller is kube's job controller and its TTL-after-finished
// controller.
type Controller struct {
	client   kubernetes.Interface
	jobs     batchlisters.JobLister
	pods     corelisters.PodLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[key]
	recorder Recorder
	clock    clock.WithTicker
	period   time.Duration
	log      *slog.Logger
	mem      memories
	// cacheClock times the waits for the cache to show the controller's
	// own writes: real time, as kube's expectations, not the injected
	// clock that times the job's behaviour (tests jump it).
	cacheClock clock.PassiveClock
}

// New wires the controller to job and pod informers from factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder Recorder, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	jobs, pods := factory.Batch().V1().Jobs(), factory.Core().V1().Pods()
	c := &Controller{client: client, jobs: jobs.Lister(), pods: pods.Lister(), recorder: recorder, clock: clk, log: log,
		period: cfg.ResyncPeriod, cacheClock: clock.RealClock{},
		synced: []cache.InformerSynced{jobs.Informer().HasSynced, pods.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[key](),
			workqueue.TypedRateLimitingQueueConfig[key]{Clock: clk}),
	}
	if c.period <= 0 {
		c.period = time.Minute
	}
	jobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.jobChanged,
		UpdateFunc: func(_, obj any) { c.jobChanged(obj) },
		DeleteFunc: c.jobDeleted,
	})
	pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podChanged,
		UpdateFunc: func(_, obj any) { c.podChanged(obj) },
		DeleteFunc: c.podChanged,
	})
	return c
}

func (c *Controller) jobChanged(obj any) {
	if job, ok := obj.(*batchv1.Job); ok {
		c.queue.Add(key{namespace: job.Namespace, name: job.Name})
	}
}

func (c *Controller) jobDeleted(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if job, ok := obj.(*batchv1.Job); ok {
		c.mem.forget(job.UID)
		c.queue.Add(key{namespace: job.Namespace, name: job.Name})
	}
}

// podChanged queues the pod's job; a pod with the tracking finalizer
// whose job is not in the cache, or that has no controller, is queued as
// a possible orphan.
func (c *Controller) podChanged(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	ref := jobRef(pod)
	if ref == nil {
		if hasFinalizer(pod) { // orphaned (kubectl delete job --cascade=orphan)
			c.queue.Add(key{orphan: true, namespace: pod.Namespace, name: pod.Name})
		}
		return
	}
	c.queue.Add(key{namespace: pod.Namespace, name: ref.Name})
	if job, err := c.jobs.Jobs(pod.Namespace).Get(ref.Name); (err != nil || job.UID != ref.UID) && hasFinalizer(pod) {
		c.queue.Add(key{orphan: true, namespace: pod.Namespace, name: pod.Name})
	}
}

func jobRef(pod *corev1.Pod) *metav1.OwnerReference {
	ref := metav1.GetControllerOf(pod)
	if ref == nil || ref.Kind != "Job" || ref.APIVersion != "batch/v1" {
		return nil
	}
	return ref
}

// Run syncs until ctx ends and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, c.period, c.resync)
}

func (c *Controller) resync() {
	jobs, _ := c.jobs.List(labels.Everything())
	for _, job := range jobs {
		c.jobChanged(job)
	}
	pods, _ := c.pods.List(labels.Everything())
	for _, pod := range pods {
		if hasFinalizer(pod) {
			c.podChanged(pod)
		}
	}
}

func (c *Controller) sync(ctx context.Context, k key) error {
	if k.orphan {
		return c.syncOrphan(ctx, k.namespace, k.name)
	}
	return c.syncJob(ctx, k)
}

// syncOrphan removes the tracking finalizer of a pod no job controls any
// more: its job is gone (not in the cache, and not on the server under the
// same UID), or it was orphaned and has no controller.
func (c *Controller) syncOrphan(ctx context.Context, namespace, name string) error {
	pod, err := c.pods.Pods(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	ref := jobRef(pod)
	if !hasFinalizer(pod) {
		return nil
	}
	if ref == nil {
		return c.dropFinalizers(ctx, nil, []*corev1.Pod{pod})
	}
	if job, err := c.jobs.Jobs(namespace).Get(ref.Name); err == nil && job.UID == ref.UID {
		return nil
	}
	job, err := c.client.BatchV1().Jobs(namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err == nil && job.UID == ref.UID {
		return nil
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("get job %s/%s of pod %s: %w", namespace, ref.Name, name, err)
	}
	return c.dropFinalizers(ctx, nil, []*corev1.Pod{pod})
}

// ownedPods are the pods the job's selector matches that the job controls.
func (c *Controller) ownedPods(job *batchv1.Job) ([]*corev1.Pod, error) {
	sel := labels.SelectorFromSet(labels.Set{LabelControllerUID: string(job.UID)})
	if job.Spec.Selector != nil {
		s, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
		if err != nil {
			return nil, fmt.Errorf("job %s/%s selector: %w", job.Namespace, job.Name, err)
		}
		sel = s
	}
	pods, err := c.pods.Pods(job.Namespace).List(sel)
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for _, pod := range pods {
		if ref := jobRef(pod); ref != nil && ref.UID == job.UID {
			out = append(out, pod)
		}
	}
	return out, nil
}
