package attachdetach

import (
	"context"
	"errors"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
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
	// ResyncPeriod is how often every volume is synced again. Default 1m
	// (kube's reconciler runs every 100ms against its own caches; here the
	// informers bring every change).
	ResyncPeriod time.Duration
}

func (c Config) withDefaults() Config {
	if c.ResyncPeriod <= 0 {
		c.ResyncPeriod = time.Minute
	}
	return c
}

// Controller attaches volumes to the nodes whose pods use them through
// VolumeAttachment objects, detaches them when no pod there does, keeps a
// volume only one node may have on one node, and attaches the volumes of
// the local driver. Work keys are volume names.
type Controller struct {
	client      kubernetes.Interface
	pods        corelisters.PodLister
	claims      corelisters.PersistentVolumeClaimLister
	volumes     corelisters.PersistentVolumeLister
	attachments storagelisters.VolumeAttachmentLister
	drivers     storagelisters.CSIDriverLister
	synced      []cache.InformerSynced
	queue       workqueue.TypedRateLimitingInterface[string]
	events      Recorder
	// reported are, by volume, the pods told of a Multi-Attach error
	// (once each, while the error lasts). Only the worker touches it.
	reported map[string]map[types.UID]bool
	clock    clock.WithTicker
	cfg      Config
	log      *slog.Logger
}

// New wires the controller to informers from factory; events go to rec.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, rec Recorder, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	core, storage := factory.Core().V1(), factory.Storage().V1()
	pods, claims, volumes := core.Pods(), core.PersistentVolumeClaims(), core.PersistentVolumes()
	vas, drivers := storage.VolumeAttachments(), storage.CSIDrivers()
	c := &Controller{client: client, pods: pods.Lister(), claims: claims.Lister(), volumes: volumes.Lister(),
		attachments: vas.Lister(), drivers: drivers.Lister(), events: rec, clock: clk, cfg: cfg.withDefaults(), log: log,
		reported: map[string]map[types.UID]bool{},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Clock: clk}),
	}
	for _, inf := range []cache.SharedIndexInformer{pods.Informer(), claims.Informer(), volumes.Informer(), vas.Informer(), drivers.Informer()} {
		c.synced = append(c.synced, inf.HasSynced)
	}
	pods.Informer().AddEventHandler(handler(c.podChanged))
	claims.Informer().AddEventHandler(handler(func(obj any) {
		if pvc, ok := obj.(*corev1.PersistentVolumeClaim); ok && pvc.Spec.VolumeName != "" {
			c.queue.Add(pvc.Spec.VolumeName)
		}
	}))
	volumes.Informer().AddEventHandler(handler(func(obj any) {
		if pv, ok := obj.(*corev1.PersistentVolume); ok {
			c.queue.Add(pv.Name)
		}
	}))
	vas.Informer().AddEventHandler(handler(func(obj any) {
		if va, ok := obj.(*storagev1.VolumeAttachment); ok && va.Spec.Source.PersistentVolumeName != nil {
			c.queue.Add(*va.Spec.Source.PersistentVolumeName)
		}
	}))
	drivers.Informer().AddEventHandler(handler(func(any) { c.resync() }))
	return c
}

func handler(f func(any)) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{AddFunc: f, UpdateFunc: func(_, obj any) { f(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			f(obj)
		}}
}

// podChanged queues the volumes of the pod's bound claims.
func (c *Controller) podChanged(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	for _, name := range c.podVolumes(pod) {
		c.queue.Add(name)
	}
}

// podVolumes are the names of the volumes bound to the pod's claims.
func (c *Controller) podVolumes(pod *corev1.Pod) []string {
	var out []string
	for _, claim := range podrefs.Of(pod).Claims {
		if pvc, err := c.claims.PersistentVolumeClaims(pod.Namespace).Get(claim); err == nil && pvc.Spec.VolumeName != "" {
			out = append(out, pvc.Spec.VolumeName)
		}
	}
	return out
}

// Run syncs until ctx ends and returns once its goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.sync, c.log, c.clock, c.cfg.ResyncPeriod, c.resync)
}

// resync queues every volume and every volume an attachment names.
func (c *Controller) resync() {
	pvs, _ := c.volumes.List(labels.Everything())
	for _, pv := range pvs {
		c.queue.Add(pv.Name)
	}
	vas, _ := c.attachments.List(labels.Everything())
	for _, va := range vas {
		if va.Spec.Source.PersistentVolumeName != nil {
			c.queue.Add(*va.Spec.Source.PersistentVolumeName)
		}
	}
}

// sync plans one volume from the caches and applies the plan.
func (c *Controller) sync(ctx context.Context, name string) error {
	in, err := c.input(name)
	if err != nil {
		return err
	}
	plan := planVolume(in)
	plan.events = c.once(name, plan.events)
	return c.apply(ctx, plan)
}

// once drops the Multi-Attach errors already reported to their pod, and
// forgets the pods that no longer get one.
func (c *Controller) once(volume string, events []podEvent) []podEvent {
	prev, cur := c.reported[volume], map[types.UID]bool{}
	out := events[:0]
	for _, e := range events {
		if e.reason == ReasonFailedAttachVolume {
			cur[e.pod.UID] = true
			if prev[e.pod.UID] {
				continue
			}
		}
		out = append(out, e)
	}
	if len(cur) == 0 {
		delete(c.reported, volume)
	} else {
		c.reported[volume] = cur
	}
	return out
}

func (c *Controller) input(name string) (volumeInput, error) {
	in := volumeInput{podsByNode: map[string][]*corev1.Pod{}, now: metav1.NewTime(c.clock.Now())}
	pv, err := c.volumes.Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return in, err
	}
	if err == nil {
		in.pv = pv
		in.attachRequired = c.attachRequired(pv)
	}
	vas, err := c.attachments.List(labels.Everything())
	if err != nil {
		return in, err
	}
	for _, va := range vas {
		if src := va.Spec.Source.PersistentVolumeName; src != nil && *src == name {
			in.attachments = append(in.attachments, va)
		}
	}
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return in, err
	}
	for _, p := range pods {
		if podActive(p) && contains(c.podVolumes(p), name) {
			in.podsByNode[p.Spec.NodeName] = append(in.podsByNode[p.Spec.NodeName], p)
		}
	}
	return in, nil
}

// attachRequired: a CSI volume whose driver's CSIDriver object does not
// say attachRequired=false (kube assumes attachment without the object).
func (c *Controller) attachRequired(pv *corev1.PersistentVolume) bool {
	if pv.Spec.CSI == nil {
		return false
	}
	d, err := c.drivers.Get(pv.Spec.CSI.Driver)
	return err != nil || d.Spec.AttachRequired == nil || *d.Spec.AttachRequired
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// apply writes the plan: creates, deletes, status updates, then events.
func (c *Controller) apply(ctx context.Context, plan volumePlan) error {
	api := c.client.StorageV1().VolumeAttachments()
	var errs []error
	for _, va := range plan.create {
		if _, err := api.Create(ctx, va, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			errs = append(errs, err)
			continue
		}
		c.log.Info("attaching volume", "volume", *va.Spec.Source.PersistentVolumeName, "node", va.Spec.NodeName, "attachment", va.Name)
	}
	for _, va := range plan.delete {
		uid := va.UID
		err := api.Delete(ctx, va.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, err)
			continue
		}
		c.log.Info("detaching volume", "volume", *va.Spec.Source.PersistentVolumeName, "node", va.Spec.NodeName, "attachment", va.Name)
	}
	for _, va := range plan.status {
		if _, err := api.UpdateStatus(ctx, va, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	for _, e := range plan.events {
		t := corev1.EventTypeNormal
		if e.warning {
			t = corev1.EventTypeWarning
		}
		c.events.Eventf(e.pod, t, e.reason, "%s", e.message)
	}
	return errors.Join(errs...)
}
