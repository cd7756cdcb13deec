package main

import (
	"context"
	"flag"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/garbagecollector"
	"github.com/nodeagent/nodeagent/controllers/podgc"
)

// gcOptions are the server flags of the garbage collectors.
type gcOptions struct {
	terminatedPodGCThreshold int
}

func serverGCFlags(fs *flag.FlagSet) *gcOptions {
	o := &gcOptions{}
	fs.IntVar(&o.terminatedPodGCThreshold, "terminated-pod-gc-threshold", podgc.DefaultTerminatedPodThreshold,
		"number of terminated pods that can exist before the pod garbage collector deletes the oldest; <= 0 keeps them all")
	return o
}

// podGCConfig maps the flag onto podgc's config, where 0 is the default
// and a negative threshold turns the terminated pod collection off.
func (o *gcOptions) podGCConfig() podgc.Config {
	if o.terminatedPodGCThreshold <= 0 {
		return podgc.Config{TerminatedPodThreshold: -1}
	}
	return podgc.Config{TerminatedPodThreshold: o.terminatedPodGCThreshold}
}

// gcControllers builds the ownerReference garbage collector (on a dynamic
// client, metadata informers and discovery from cfg: it watches every
// served resource, pods through factory's informer) and the pod garbage
// collector (on factory, started by the caller) when --controllers selects
// them, into set.
func gcControllers(ctx context.Context, set *controllerSet, cfg *rest.Config, client kubernetes.Interface, factory informers.SharedInformerFactory,
	env *environment, o *gcOptions) {
	set.addErr("garbage-collector-controller", func() (func(context.Context), error) {
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		// Its watches ask for metadata alone (PartialObjectMetadata), as
		// kube's collector does: objects are not sent and decoded whole
		// for a controller that reads ownerReferences. Pods it reads from
		// the other controllers' informer (withPods).
		mc, err := metadata.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		broadcaster := record.NewBroadcaster(record.WithContext(ctx))
		broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
		recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "garbage-collector-controller"})
		gcInformers := withPods(metadatainformer.NewSharedInformerFactory(mc, 0), factory)
		return garbagecollector.New(dyn, gcInformers, client.Discovery(), recorder, env.log.With("controller", "garbagecollector"),
			clock.RealClock{}, garbagecollector.Config{}).Run, nil
	})
	set.add("pod-garbage-collector-controller", func() func(context.Context) {
		return podgc.New(client, factory, env.log.With("controller", "podgc"), clock.RealClock{}, o.podGCConfig()).Run
	})
}

// podsFromFactory is the collector's informers: the other controllers' pod
// informer for pods (in the server, the watch cache's own pods: sharePods),
// metadata informers for every other resource. Pods are the most numerous
// and most often changed objects; a metadata informer of its own would
// watch them again over the loopback, a second pipeline and a second store
// for the same events.
type podsFromFactory struct {
	garbagecollector.InformerFactory
	pods informers.GenericInformer
}

func withPods(others garbagecollector.InformerFactory, factory informers.SharedInformerFactory) podsFromFactory {
	inf := factory.Core().V1().Pods().Informer()
	return podsFromFactory{InformerFactory: others,
		pods: sharedGeneric{informer: untransformed{inf}, resource: corev1.Resource("pods")}}
}

func (f podsFromFactory) ForResource(gvr schema.GroupVersionResource) informers.GenericInformer {
	if gvr == corev1.SchemeGroupVersion.WithResource("pods") {
		return f.pods
	}
	return f.InformerFactory.ForResource(gvr)
}

// sharedGeneric is an informer of the controllers' factory as a
// GenericInformer. That factory starts and stops it, not the collector's.
type sharedGeneric struct {
	informer cache.SharedIndexInformer
	resource schema.GroupResource
}

func (g sharedGeneric) Informer() cache.SharedIndexInformer { return g.informer }

func (g sharedGeneric) Lister() cache.GenericLister {
	return cache.NewGenericLister(g.informer.GetIndexer(), g.resource)
}

// untransformed keeps the collector's transform off an informer other
// controllers read: the transform would turn their pods into metadata.
// The collector reads only metadata through accessors, so the pods serve
// it as they are, and in the server they are shared, not copied.
type untransformed struct{ cache.SharedIndexInformer }

func (untransformed) SetTransform(cache.TransformFunc) error { return nil }
