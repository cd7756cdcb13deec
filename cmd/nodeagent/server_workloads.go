package main

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/deployment"
	"github.com/nodeagent/nodeagent/controllers/replicaset"
)

// startWorkloadControllers builds the apps/v1 controllers (ReplicaSet and
// Deployment) on factory (started by the caller) when --controllers selects them,
// into set. Their events go through one broadcaster, each under its kube
// component name.
func startWorkloadControllers(ctx context.Context, set *controllerSet, client kubernetes.Interface, factory informers.SharedInformerFactory, env *environment) {
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	recorder := func(component string) record.EventRecorder {
		return broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
	}
	set.add("replicaset-controller", func() func(context.Context) {
		return replicaset.New(client, factory, recorder("replicaset-controller"),
			env.log.With("controller", "replicaset"), clock.RealClock{}, replicaset.Config{}).Run
	})
	set.add("deployment-controller", func() func(context.Context) {
		return deployment.New(client, factory, recorder("deployment-controller"),
			env.log.With("controller", "deployment"), clock.RealClock{}, deployment.Config{}).Run
	})
}
