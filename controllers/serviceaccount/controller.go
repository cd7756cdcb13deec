// Package serviceaccount is kube's service account controller: every
// active namespace has a service account named "default", the one pods run
// as when they name none, so that their tokens can be requested.
package serviceaccount

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

// Default is the service account every namespace gets.
const Default = "default"

// resync is how often every namespace is checked again.
const resync = 5 * time.Minute

// Controller keeps a "default" service account in each active namespace.
// Work keys are namespace names.
type Controller struct {
	client     kubernetes.Interface
	namespaces corelisters.NamespaceLister
	accounts   corelisters.ServiceAccountLister
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]
	clock      clock.WithTicker
	log        *slog.Logger
}

// New wires the controller to namespace and service account informers.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, log *slog.Logger, clk clock.WithTicker) *Controller {
	nss, sas := factory.Core().V1().Namespaces(), factory.Core().V1().ServiceAccounts()
	c := &Controller{client: client, namespaces: nss.Lister(), accounts: sas.Lister(), clock: clk, log: log,
		synced: []cache.InformerSynced{nss.Informer().HasSynced, sas.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Clock: clk}),
	}
	nss.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.enqueue(obj) },
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
	})
	sas.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if sa, ok := obj.(*corev1.ServiceAccount); ok && sa.Name == Default {
			c.queue.Add(sa.Namespace)
		}
	}})
	return c
}

func (c *Controller) enqueue(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		c.queue.Add(ns.Name)
	}
}

// Run syncs until ctx ends and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, resync, func() {
		nss, _ := c.namespaces.List(labels.Everything())
		for _, ns := range nss {
			c.queue.Add(ns.Name)
		}
	})
}

// sync creates the namespace's default service account if it lacks one.
func (c *Controller) sync(ctx context.Context, name string) error {
	ns, err := c.namespaces.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || ns.Status.Phase != corev1.NamespaceActive || ns.DeletionTimestamp != nil {
		return err
	}
	if _, err := c.accounts.ServiceAccounts(name).Get(Default); err == nil || !apierrors.IsNotFound(err) {
		return err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: Default, Namespace: name}}
	_, err = c.client.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) || apierrors.IsForbidden(err) {
		return nil // there, or the namespace is going away
	}
	if err != nil {
		return fmt.Errorf("create service account %s/%s: %w", name, Default, err)
	}
	c.log.Info("created service account", "namespace", name, "name", Default)
	return nil
}
