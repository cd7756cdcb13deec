package statefulset

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
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/internal/claim"
	"github.com/nodeagent/nodeagent/controllers/internal/loop"
)

// resync is how often every StatefulSet is synced again.
const resync = 5 * time.Minute

// Recorder records events (client-go's record.EventRecorder's method).
type Recorder interface {
	Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...any)
}

// Controller keeps each StatefulSet's ordered pods and their claims.
// Work keys are "namespace/name".
type Controller struct {
	client    kubernetes.Interface
	sets      appslisters.StatefulSetLister
	revisions appslisters.ControllerRevisionLister
	pods      corelisters.PodLister
	claims    corelisters.PersistentVolumeClaimLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	events    Recorder
	clock     clock.WithTicker
	log       *slog.Logger
}

// New wires the controller to StatefulSet, ControllerRevision, pod and
// PersistentVolumeClaim informers from factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, events Recorder, log *slog.Logger, clk clock.WithTicker) *Controller {
	sets, revs := factory.Apps().V1().StatefulSets(), factory.Apps().V1().ControllerRevisions()
	pods, claims := factory.Core().V1().Pods(), factory.Core().V1().PersistentVolumeClaims()
	c := &Controller{client: client, sets: sets.Lister(), revisions: revs.Lister(), pods: pods.Lister(), claims: claims.Lister(),
		synced: []cache.InformerSynced{sets.Informer().HasSynced, revs.Informer().HasSynced,
			pods.Informer().HasSynced, claims.Informer().HasSynced},
		events: events, clock: clk, log: log,
		queue: loop.NewQueue[string](clk, "statefulset"),
	}
	sets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	})
	pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueOwner,
		UpdateFunc: func(old, obj any) { c.enqueueOwner(obj); c.enqueueOwner(old) },
		DeleteFunc: c.enqueueOwner,
	})
	claims.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.claimDeleted})
	return c
}

// claimDeleted queues the sets of the claim's namespace whose selector
// matches its labels (a pod may wait for the claim to go).
func (c *Controller) claimDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	claim, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return
	}
	sets, _ := c.sets.StatefulSets(claim.Namespace).List(labels.Everything())
	for _, set := range sets {
		sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
		if err == nil && !sel.Empty() && len(set.Spec.VolumeClaimTemplates) > 0 && sel.Matches(labels.Set(claim.Labels)) {
			c.queue.Add(set.Namespace + "/" + set.Name)
		}
	}
}

func (c *Controller) enqueue(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

// enqueueOwner queues the StatefulSet controlling a pod.
func (c *Controller) enqueueOwner(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref != nil && ref.Kind == "StatefulSet" && ref.APIVersion == "apps/v1" {
		c.queue.Add(pod.Namespace + "/" + ref.Name)
	}
	if ref != nil {
		return
	}
	// An orphan: the set it is named after may adopt it.
	if parent, _, ok := parseName(pod.Name); ok {
		if _, err := c.sets.StatefulSets(pod.Namespace).Get(parent); err == nil {
			c.queue.Add(pod.Namespace + "/" + parent)
		}
	}
}

func (c *Controller) enqueueAll() {
	sets, _ := c.sets.List(labels.Everything())
	for _, set := range sets {
		c.queue.Add(set.Namespace + "/" + set.Name)
	}
}

// Run syncs until ctx ends and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, resync, c.enqueueAll)
}

// sync makes one StatefulSet's pods, claims and revisions what its spec
// asks for, one step at a time, and writes its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	set, err := c.sets.StatefulSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get statefulset %s from cache: %w", key, err)
	}
	sel, err := claim.Selector(set.Spec.Selector)
	if err != nil {
		return nil // refused by validation
	}
	rev, err := c.revisionsOf(ctx, set, sel)
	if err != nil || rev == nil {
		return err
	}
	pods, err := c.podsOf(ctx, set, sel)
	if err != nil {
		return err
	}
	s := state{set: set, rev: rev, pods: pods, now: c.clock.Now()}
	var errs []error
	if set.DeletionTimestamp == nil { // a set being deleted only gets its status
		errs = append(errs, c.manage(ctx, s))
	}
	errs = append(errs, c.truncate(ctx, set, rev, pods), c.writeStatus(ctx, key, s))
	return errors.Join(errs...)
}

// manage gives the claims the owners the retention policy asks for
// (before any pod they follow goes), then plans and applies.
func (c *Controller) manage(ctx context.Context, s state) error {
	if err := c.syncClaimRefs(ctx, s.set, s.pods); err != nil {
		return err
	}
	return c.apply(ctx, s, Plan(s))
}

// podsOf lists the set's pods: controlled by it, named "<set>-<ordinal>",
// matching its selector; matching orphans are adopted, pods that no
// longer match released.
func (c *Controller) podsOf(ctx context.Context, set *appsv1.StatefulSet, sel labels.Selector) ([]*corev1.Pod, error) {
	list, err := c.pods.Pods(set.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list pods of statefulset %s/%s from cache: %w", set.Namespace, set.Name, err)
	}
	owner := claim.Patching(set, "StatefulSet", sel, func(ctx context.Context) (metav1.Object, error) {
		return c.client.AppsV1().StatefulSets(set.Namespace).Get(ctx, set.Name, metav1.GetOptions{})
	}, claim.PodPatcher(c.client, set.Namespace))
	owner.Member = func(pod metav1.Object) bool {
		parent, _, ok := parseName(pod.GetName())
		return ok && parent == set.Name
	}
	pods, err := claim.Objects(ctx, owner, list)
	if err != nil {
		return nil, fmt.Errorf("claim pods of statefulset %s/%s: %w", set.Namespace, set.Name, err)
	}
	return pods, nil
}

// writeStatus updates the status when it changed, and syncs the set again
// when a ready pod is due to become available.
func (c *Controller) writeStatus(ctx context.Context, key string, s state) error {
	st, wait := computeStatus(s)
	if wait > 0 {
		c.queue.AddAfter(key, wait)
	}
	if equality.Semantic.DeepEqual(st, s.set.Status) {
		return nil
	}
	set := s.set.DeepCopy()
	set.Status = st
	_, err := c.client.AppsV1().StatefulSets(set.Namespace).UpdateStatus(ctx, set, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("update status of statefulset %s: %w", key, err)
	}
	return nil // a conflict: the change that made the copy stale is on its way and syncs it again
}
