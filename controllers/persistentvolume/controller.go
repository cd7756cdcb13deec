package persistentvolume

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/api/podrefs"
	"github.com/nodeagent/nodeagent/controllers/internal/loop"
)

// Recorder records events (client-go's record.EventRecorder's method).
type Recorder interface {
	Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...any)
}

// Config tunes the controller. Zero fields take their defaults.
type Config struct {
	// ResyncPeriod is how often every claim and volume is synced again,
	// whatever changed. Default 15s (kube's --pvclaimbinder-sync-period).
	ResyncPeriod time.Duration
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config { return Config{ResyncPeriod: 15 * time.Second} }

func (c Config) withDefaults() Config {
	if c.ResyncPeriod <= 0 {
		c.ResyncPeriod = DefaultConfig().ResyncPeriod
	}
	return c
}

// kind says what a work key names.
type kind int

const (
	claimKind kind = iota
	volumeKind
)

// key is a typed work key: a claim (namespace/name) or a volume (name).
type key struct {
	kind            kind
	namespace, name string
}

func (k key) String() string {
	if k.kind == volumeKind {
		return "volume " + k.name
	}
	return "claim " + k.namespace + "/" + k.name
}

// Controller binds claims and volumes, provisions local volumes, reclaims
// released ones and guards volumes in use from deletion.
type Controller struct {
	client  kubernetes.Interface
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	classes storagelisters.StorageClassLister
	pods    corelisters.PodLister
	nodes   corelisters.NodeLister
	synced  []cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[key]
	events  Recorder
	clock   clock.WithTicker
	cfg     Config
	log     *slog.Logger
}

// New wires the controller to informers from factory; events go to rec.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, rec Recorder, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	core := factory.Core().V1()
	claims, volumes, pods, nodes := core.PersistentVolumeClaims(), core.PersistentVolumes(), core.Pods(), core.Nodes()
	classes := factory.Storage().V1().StorageClasses()
	c := &Controller{client: client, claims: claims.Lister(), volumes: volumes.Lister(), classes: classes.Lister(),
		pods: pods.Lister(), nodes: nodes.Lister(), events: rec, clock: clk, cfg: cfg.withDefaults(), log: log,
		synced: []cache.InformerSynced{claims.Informer().HasSynced, volumes.Informer().HasSynced, classes.Informer().HasSynced,
			pods.Informer().HasSynced, nodes.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[key](),
			workqueue.TypedRateLimitingQueueConfig[key]{Clock: clk}),
	}
	claims.Informer().AddEventHandler(handler(func(obj any) {
		if pvc, ok := obj.(*corev1.PersistentVolumeClaim); ok {
			c.queue.Add(key{kind: claimKind, namespace: pvc.Namespace, name: pvc.Name})
			if pvc.Spec.VolumeName != "" {
				c.queue.Add(key{kind: volumeKind, name: pvc.Spec.VolumeName})
			}
		}
	}))
	volumes.Informer().AddEventHandler(handler(func(obj any) {
		if pv, ok := obj.(*corev1.PersistentVolume); ok {
			c.queue.Add(key{kind: volumeKind, name: pv.Name})
			if ref := pv.Spec.ClaimRef; ref != nil {
				c.queue.Add(key{kind: claimKind, namespace: ref.Namespace, name: ref.Name})
			} else if pv.Status.Phase == corev1.VolumeAvailable {
				c.queueUnboundClaims()
			}
		}
	}))
	pods.Informer().AddEventHandler(handler(c.podChanged))
	return c
}

// handler calls f with the object of every add, update and delete.
func handler(f func(any)) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{AddFunc: f, UpdateFunc: func(_, obj any) { f(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			f(obj)
		}}
}

// podChanged queues the claims a pod uses: their wait events name it, and
// a claim being deleted may be free now.
func (c *Controller) podChanged(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	for _, name := range podrefs.Of(pod).Claims {
		c.queue.Add(key{kind: claimKind, namespace: pod.Namespace, name: name})
	}
}

// queueUnboundClaims queues the claims that wait for a volume: a volume
// became free (kube waits for the resync).
func (c *Controller) queueUnboundClaims() {
	claims, _ := c.claims.List(labels.Everything())
	for _, pvc := range claims {
		if pvc.Spec.VolumeName == "" {
			c.queue.Add(key{kind: claimKind, namespace: pvc.Namespace, name: pvc.Name})
		}
	}
}

// Run syncs until ctx ends and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, c.cfg.ResyncPeriod, c.resync)
}

// resync queues every claim and volume.
func (c *Controller) resync() {
	claims, _ := c.claims.List(labels.Everything())
	for _, pvc := range claims {
		c.queue.Add(key{kind: claimKind, namespace: pvc.Namespace, name: pvc.Name})
	}
	volumes, _ := c.volumes.List(labels.Everything())
	for _, pv := range volumes {
		c.queue.Add(key{kind: volumeKind, name: pv.Name})
	}
}

func (c *Controller) sync(ctx context.Context, k key) error {
	if k.kind == volumeKind {
		return c.syncVolume(ctx, k.name)
	}
	return c.syncClaim(ctx, k.namespace, k.name)
}

// record writes ev on obj, if there is one.
func (c *Controller) record(obj runtime.Object, ev *event) {
	if ev == nil {
		return
	}
	t := corev1.EventTypeNormal
	if ev.warning {
		t = corev1.EventTypeWarning
	}
	c.events.Eventf(obj, t, ev.reason, "%s", ev.message)
}

func wrap(err error, what string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(what, args...), err)
}
