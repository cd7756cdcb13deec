package daemonset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/internal/claim"
	"github.com/nodeagent/nodeagent/controllers/internal/expect"
	"github.com/nodeagent/nodeagent/controllers/internal/loop"
)

// resync is how often every DaemonSet is synced again.
const resync = 5 * time.Minute

// Recorder records events (client-go's record.EventRecorder's method).
type Recorder interface {
	Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...any)
}

// Controller keeps a daemon pod on every eligible node for each
// DaemonSet. Work keys are "namespace/name".
type Controller struct {
	client    kubernetes.Interface
	sets      appslisters.DaemonSetLister
	revisions appslisters.ControllerRevisionLister
	pods      corelisters.PodLister
	nodes     corelisters.NodeLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	expect    *expect.Expectations[types.UID]
	failed    *flowcontrol.Backoff
	events    Recorder
	clock     clock.WithTicker
	log       *slog.Logger
}

// New wires the controller to DaemonSet, ControllerRevision, pod and node
// informers from factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, events Recorder, log *slog.Logger, clk clock.WithTicker) *Controller {
	dss, revs := factory.Apps().V1().DaemonSets(), factory.Apps().V1().ControllerRevisions()
	pods, nodes := factory.Core().V1().Pods(), factory.Core().V1().Nodes()
	c := &Controller{client: client, sets: dss.Lister(), revisions: revs.Lister(), pods: pods.Lister(), nodes: nodes.Lister(),
		synced: []cache.InformerSynced{dss.Informer().HasSynced, revs.Informer().HasSynced,
			pods.Informer().HasSynced, nodes.Informer().HasSynced},
		expect: expect.New[types.UID](clk.Now), failed: newFailedBackoff(clk), events: events, clock: clk, log: log,
		queue: loop.NewQueue[string](clk, "daemonset"),
	}
	dss.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	})
	revs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueOwner,
		DeleteFunc: c.enqueueOwner,
	})
	pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podAdded,
		UpdateFunc: c.podUpdated,
		DeleteFunc: c.podDeleted,
	})
	nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.enqueueAll() },
		UpdateFunc: c.nodeUpdated,
		DeleteFunc: func(any) { c.enqueueAll() },
	})
	return c
}

// Run syncs until ctx ends and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, resync, func() {
		c.failed.GC()
		c.enqueueAll()
	})
}

func newFailedBackoff(clk clock.Clock) *flowcontrol.Backoff {
	b := flowcontrol.NewBackOff(failedBackoffInitial, failedBackoffMax)
	b.Clock = clk
	return b
}

// sync manages one DaemonSet's pods and revisions, then writes its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	ds, err := c.sets.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expect.Forget(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get daemonset %s from cache: %w", key, err)
	}
	sel, err := claim.Selector(ds.Spec.Selector)
	if err != nil || ds.DeletionTimestamp != nil {
		return nil // invalid (refused by validation), or going away: its pods go with it
	}
	cur, old, err := c.history(ctx, ds, sel)
	if err != nil {
		return err
	}
	s, err := c.state(ctx, ds, cur.Labels[appsv1.DefaultDaemonSetUniqueLabelKey], sel)
	if err != nil {
		return err
	}
	var errs []error
	if c.expect.Satisfied(key) {
		a := Plan(s)
		errs = append(errs, c.apply(ctx, key, ds, s.hash, a))
		if a.Empty() {
			errs = append(errs, c.cleanupHistory(ctx, ds, old, s))
		}
	}
	return errors.Join(append(errs, c.writeStatus(ctx, key, s))...)
}

// state reads the nodes and the DaemonSet's pods from the caches,
// adopting matching orphans and releasing pods that no longer match.
func (c *Controller) state(ctx context.Context, ds *appsv1.DaemonSet, hash string, sel labels.Selector) (state, error) {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return state{}, fmt.Errorf("list nodes from cache: %w", err)
	}
	all, err := c.pods.Pods(ds.Namespace).List(labels.Everything())
	if err != nil {
		return state{}, fmt.Errorf("list pods of daemonset %s/%s from cache: %w", ds.Namespace, ds.Name, err)
	}
	owner := claim.Patching(ds, "DaemonSet", sel, func(ctx context.Context) (metav1.Object, error) {
		return c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	}, claim.PodPatcher(c.client, ds.Namespace))
	pods, err := claim.Objects(ctx, owner, all)
	if err != nil {
		return state{}, fmt.Errorf("claim pods of daemonset %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	byNode := map[string][]*corev1.Pod{}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil && (pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded) {
			continue
		}
		node, err := targetNode(pod)
		if err != nil {
			c.log.Warn("daemon pod without a node", "pod", pod.Namespace+"/"+pod.Name, "err", err)
			continue
		}
		byNode[node] = append(byNode[node], pod)
	}
	return state{ds: ds, hash: hash, nodes: nodes, byNode: byNode, now: c.clock.Now()}, nil
}

// writeStatus updates the status when it changed, and syncs the
// DaemonSet again when a ready pod is due to become available.
func (c *Controller) writeStatus(ctx context.Context, key string, s state) error {
	st, wait := computeStatus(s)
	if wait > 0 {
		c.queue.AddAfter(key, wait)
	}
	if equality.Semantic.DeepEqual(st, s.ds.Status) {
		return nil
	}
	ds := s.ds.DeepCopy()
	ds.Status = st
	_, err := c.client.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, ds, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("update status of daemonset %s: %w", key, err)
	}
	return nil // a conflict: the change that made the copy stale is on its way and syncs it again
}
