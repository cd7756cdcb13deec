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

	"github.com/nodeagent/nodeagent/controllers/daemonset"
	"github.com/nodeagent/nodeagent/controllers/statefulset"
)

// startSetControllers builds the DaemonSet and StatefulSet controllers on
// factory (started by the caller) when --controllers selects them, into set. Their
// events go through one broadcaster, each under its kube component name.
func startSetControllers(ctx context.Context, set *controllerSet, client kubernetes.Interface, factory informers.SharedInformerFactory, env *environment) {
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	recorder := func(component string) record.EventRecorder {
		return broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
	}
	set.add("daemonset-controller", func() func(context.Context) {
		return daemonset.New(client, factory, recorder("daemonset-controller"), env.log.With("controller", "daemonset"), clock.RealClock{}).Run
	})
	set.add("statefulset-controller", func() func(context.Context) {
		return statefulset.New(client, factory, recorder("statefulset-controller"), env.log.With("controller", "statefulset"), clock.RealClock{}).Run
	})
}
