// Package namespace empties namespaces that are being deleted, then releases
// them: for a namespace with a deletionTimestamp it deletes every object in
// it, and once nothing is left removes the "kubernetes" finalizer so that
// the API server removes the namespace, as kube-controller-manager's
// namespace controller does.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Controller is the namespace controller.
type Controller struct {
	client  kubernetes.Interface
	dynamic dynamic.Interface // the content, of every namespaced resource
	lister  cache.Indexer
	queue   workqueue.TypedRateLimitingInterface[string]
	log     *slog.Logger
}

// New wires the controller to a namespace informer from factory.
func New(client kubernetes.Interface, dyn dynamic.Interface, factory informers.SharedInformerFactory, log *slog.Logger) *Controller {
	inf := factory.Core().V1().Namespaces().Informer()
	c := &Controller{client: client, dynamic: dyn, lister: inf.GetIndexer(), log: log,
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())}
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
	})
	return c
}

func (c *Controller) enqueue(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok && ns.DeletionTimestamp != nil {
		c.queue.Add(ns.Name)
	}
}

// Run processes namespaces until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	defer c.queue.ShutDown()
	go wait.UntilWithContext(ctx, c.worker, time.Second)
	<-ctx.Done()
}

func (c *Controller) worker(ctx context.Context) {
	for c.next(ctx) {
	}
}

func (c *Controller) next(ctx context.Context) bool {
	name, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(name)
	err := c.sync(ctx, name)
	if err == nil {
		c.queue.Forget(name)
		return true
	}
	if !errors.Is(err, errNotEmpty) {
		c.log.Warn("namespace cleanup", "namespace", name, "err", err)
	}
	c.queue.AddRateLimited(name)
	return true
}

var errNotEmpty = errors.New("namespace still has content")

// sync deletes what is left in the namespace and releases it when empty.
func (c *Controller) sync(ctx context.Context, name string) error {
	obj, exists, err := c.lister.GetByKey(name)
	if err != nil || !exists {
		return err
	}
	ns := obj.(*corev1.Namespace)
	if ns.DeletionTimestamp == nil || !hasFinalizer(ns) {
		return nil
	}
	left, err := c.deleteContent(ctx, name)
	if err != nil {
		return err
	}
	if left > 0 {
		return fmt.Errorf("%w: %d objects", errNotEmpty, left)
	}
	return c.finalize(ctx, ns)
}

func hasFinalizer(ns *corev1.Namespace) bool {
	for _, f := range ns.Spec.Finalizers {
		if f == corev1.FinalizerKubernetes {
			return true
		}
	}
	return false
}

func (c *Controller) finalize(ctx context.Context, ns *corev1.Namespace) error {
	ns = ns.DeepCopy()
	var keep []corev1.FinalizerName
	for _, f := range ns.Spec.Finalizers {
		if f != corev1.FinalizerKubernetes {
			keep = append(keep, f)
		}
	}
	ns.Spec.Finalizers = keep
	_, err := c.client.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
	return err
}
