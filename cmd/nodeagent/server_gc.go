package main

import (
	"context"
	"flag"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
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
// served resource) and the pod garbage collector (on factory, started by
// the caller) when --controllers selects them, into set.
func gcControllers(ctx context.Context, set *controllerSet, cfg *rest.Config, client kubernetes.Interface, factory informers.SharedInformerFactory,
	env *environment, o *gcOptions) {
	set.addErr("garbage-collector-controller", func() (func(context.Context), error) {
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		// Its watches ask for metadata alone (PartialObjectMetadata), as
		// kube's collector does: every pod event is not sent and decoded
		// whole for a controller that reads ownerReferences.
		mc, err := metadata.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		broadcaster := record.NewBroadcaster(record.WithContext(ctx))
		broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
		recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "garbage-collector-controller"})
		return garbagecollector.New(dyn, metadatainformer.NewSharedInformerFactory(mc, 0), client.Discovery(), recorder, env.log.With("controller", "garbagecollector"),
			clock.RealClock{}, garbagecollector.Config{}).Run, nil
	})
	set.add("pod-garbage-collector-controller", func() func(context.Context) {
		return podgc.New(client, factory, env.log.With("controller", "podgc"), clock.RealClock{}, o.podGCConfig()).Run
	})
}
