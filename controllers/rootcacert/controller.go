// Package rootcacert is kube-controller-manager's root CA certificate
// publisher: every namespace holds the ConfigMap kube-root-ca.crt whose
// ca.crt is the bundle that verifies the API server, which the
// kube-api-access volume of each pod projects (ServiceAccount admission).
// A changed or deleted ConfigMap is put back.
package rootcacert

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

const (
	// Name is the ConfigMap's name in every namespace.
	Name = "kube-root-ca.crt"
	// Key holds the PEM bundle.
	Key = "ca.crt"
	// descriptionAnnotation and description are what kube writes on it.
	descriptionAnnotation = "kubernetes.io/description"
	description           = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
		"No other usage is guaranteed across distributions of Kubernetes clusters."
	resync = 5 * time.Minute
)

// Controller keeps kube-root-ca.crt in each namespace. Work keys are
// namespace names.
type Controller struct {
	client     kubernetes.Interface
	rootCA     []byte
	namespaces corelisters.NamespaceLister
	configMaps corelisters.ConfigMapLister
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]
	clock      clock.WithTicker
	log        *slog.Logger
}

// New wires the controller to namespace and ConfigMap informers; rootCA is
// the PEM bundle to publish and must not be empty.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, rootCA []byte, log *slog.Logger, clk clock.WithTicker) (*Controller, error) {
	if len(rootCA) == 0 {
		return nil, fmt.Errorf("root CA publisher: no CA bundle to publish")
	}
	nss, cms := factory.Core().V1().Namespaces(), factory.Core().V1().ConfigMaps()
	c := &Controller{client: client, rootCA: rootCA, namespaces: nss.Lister(), configMaps: cms.Lister(), clock: clk, log: log,
		synced: []cache.InformerSynced{nss.Informer().HasSynced, cms.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Clock: clk}),
	}
	nss.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.enqueueNamespace(obj) },
		UpdateFunc: func(_, obj any) { c.enqueueNamespace(obj) },
	})
	cms.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { c.enqueueConfigMap(obj) },
		DeleteFunc: c.enqueueConfigMap,
	})
	return c, nil
}

func (c *Controller) enqueueNamespace(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		c.queue.Add(ns.Name)
	}
}

func (c *Controller) enqueueConfigMap(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Name == Name {
		c.queue.Add(cm.Namespace)
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

// sync makes the namespace's ConfigMap hold the bundle: created when
// missing, its ca.crt and description put back when changed. A namespace
// being deleted is left alone.
func (c *Controller) sync(ctx context.Context, name string) error {
	ns, err := c.namespaces.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || ns.Status.Phase != corev1.NamespaceActive || ns.DeletionTimestamp != nil {
		return err
	}
	cm, err := c.configMaps.ConfigMaps(name).Get(Name)
	if apierrors.IsNotFound(err) {
		return c.create(ctx, name)
	}
	if err != nil || c.current(cm) {
		return err
	}
	return c.update(ctx, cm)
}

// current: the ConfigMap holds exactly the bundle and the description.
func (c *Controller) current(cm *corev1.ConfigMap) bool {
	return len(cm.Data) == 1 && cm.Data[Key] == string(c.rootCA) && len(cm.BinaryData) == 0 &&
		cm.Annotations[descriptionAnnotation] == description
}

func (c *Controller) create(ctx context.Context, ns string) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: ns,
		Annotations: map[string]string{descriptionAnnotation: description}},
		Data: map[string]string{Key: string(c.rootCA)}}
	_, err := c.client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) || apierrors.IsForbidden(err) {
		return nil // there (the informer will say), or the namespace is going away
	}
	if err != nil {
		return fmt.Errorf("create configmap %s/%s: %w", ns, Name, err)
	}
	c.log.Info("published root CA", "namespace", ns)
	return nil
}

func (c *Controller) update(ctx context.Context, old *corev1.ConfigMap) error {
	cm := old.DeepCopy()
	cm.Data, cm.BinaryData = map[string]string{Key: string(c.rootCA)}, nil
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	cm.Annotations[descriptionAnnotation] = description
	if _, err := c.client.CoreV1().ConfigMaps(cm.Namespace).Update(ctx, cm, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("update configmap %s/%s: %w", cm.Namespace, Name, err)
	}
	return nil
}
