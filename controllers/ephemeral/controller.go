package ephemeral

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
)

// Config tunes the controller. Zero fields take their defaults.
type Config struct {
	// ResyncPeriod is how often every pod and claim is looked at again.
	// Default 1m.
	ResyncPeriod time.Duration
}

// key names a pod (make its claims) or a claim (remove it if its pod is
// gone).
type key struct {
	claim           bool
	namespace, name string
}

// Controller is kube's ephemeral volume controller, and the garbage
// collection of those claims (kube leaves it to its garbage collector,
// which nodeagent does not run).
type Controller struct {
	client kubernetes.Interface
	pods   corelisters.PodLister
	claims corelisters.PersistentVolumeClaimLister
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[key]
	clock  clock.WithTicker
	period time.Duration
	log    *slog.Logger
}

// New wires the controller to pod and claim informers from factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	pods, claims := factory.Core().V1().Pods(), factory.Core().V1().PersistentVolumeClaims()
	c := &Controller{client: client, pods: pods.Lister(), claims: claims.Lister(), clock: clk, log: log, period: cfg.ResyncPeriod,
		synced: []cache.InformerSynced{pods.Informer().HasSynced, claims.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[key](),
			workqueue.TypedRateLimitingQueueConfig[key]{Clock: clk}),
	}
	if c.period <= 0 {
		c.period = time.Minute
	}
	pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podChanged,
		UpdateFunc: func(_, obj any) { c.podChanged(obj) },
		DeleteFunc: c.podDeleted,
	})
	claims.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.claimChanged,
		UpdateFunc: func(_, obj any) { c.claimChanged(obj) },
		DeleteFunc: c.claimDeleted,
	})
	return c
}

func (c *Controller) podChanged(obj any) {
	if pod, ok := obj.(*corev1.Pod); ok && len(desiredClaims(pod)) > 0 {
		c.queue.Add(key{namespace: pod.Namespace, name: pod.Name})
	}
}

// podDeleted queues the claims the pod controlled.
func (c *Controller) podDeleted(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if pod, ok := obj.(*corev1.Pod); ok {
		for _, claim := range desiredClaims(pod) {
			c.queue.Add(key{claim: true, namespace: claim.Namespace, name: claim.Name})
		}
	}
}

func (c *Controller) claimChanged(obj any) {
	if claim, ok := obj.(*corev1.PersistentVolumeClaim); ok {
		if ref, owned := podOwner(claim); owned {
			c.queue.Add(key{claim: true, namespace: claim.Namespace, name: claim.Name})
			c.queue.Add(key{namespace: claim.Namespace, name: ref.Name})
		}
	}
}

// claimDeleted: a pod whose claim went away gets it again.
func (c *Controller) claimDeleted(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if claim, ok := obj.(*corev1.PersistentVolumeClaim); ok {
		if ref, owned := podOwner(claim); owned {
			c.queue.Add(key{namespace: claim.Namespace, name: ref.Name})
		}
	}
}

// Run syncs until ctx ends and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, c.period, c.resync)
}

func (c *Controller) resync() {
	pods, _ := c.pods.List(labels.Everything())
	for _, p := range pods {
		c.podChanged(p)
	}
	claims, _ := c.claims.List(labels.Everything())
	for _, claim := range claims {
		c.claimChanged(claim)
	}
}

func (c *Controller) sync(ctx context.Context, k key) error {
	if k.claim {
		return c.syncClaim(ctx, k.namespace, k.name)
	}
	return c.syncPod(ctx, k.namespace, k.name)
}

// syncPod creates the claims a live pod's ephemeral volumes lack. A claim
// of that name the pod does not control is left alone: the scheduler
// refuses the pod ("was not created for pod").
func (c *Controller) syncPod(ctx context.Context, namespace, name string) error {
	pod, err := c.pods.Pods(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || pod.DeletionTimestamp != nil {
		return err
	}
	for _, want := range desiredClaims(pod) {
		if _, err := c.claims.PersistentVolumeClaims(namespace).Get(want.Name); err == nil || !apierrors.IsNotFound(err) {
			continue
		}
		_, err := c.client.CoreV1().PersistentVolumeClaims(namespace).Create(ctx, want, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create claim %s/%s for pod %s: %w", namespace, want.Name, name, err)
		}
		c.log.Info("created ephemeral claim", "claim", namespace+"/"+want.Name, "pod", name)
	}
	return nil
}

// syncClaim deletes a claim whose controlling pod is gone: not in the
// cache, and not on the server either (or a new pod of that name).
func (c *Controller) syncClaim(ctx context.Context, namespace, name string) error {
	claim, err := c.claims.PersistentVolumeClaims(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	ref, owned := podOwner(claim)
	if !owned || claim.DeletionTimestamp != nil {
		return nil
	}
	if pod, err := c.pods.Pods(namespace).Get(ref.Name); err == nil && pod.UID == ref.UID {
		return nil
	}
	pod, err := c.client.CoreV1().Pods(namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err == nil && pod.UID == ref.UID {
		return nil
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("get pod %s/%s owning claim %s: %w", namespace, ref.Name, name, err)
	}
	uid := claim.UID
	err = c.client.CoreV1().PersistentVolumeClaims(namespace).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete claim %s/%s of deleted pod %s: %w", namespace, name, ref.Name, err)
	}
	c.log.Info("deleted the claim of a deleted pod", "claim", namespace+"/"+name, "pod", ref.Name)
	return nil
}
