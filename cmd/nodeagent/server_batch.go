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

	"github.com/nodeagent/nodeagent/controllers/cronjob"
	"github.com/nodeagent/nodeagent/controllers/job"
)

// startBatchControllers builds the job controller (with TTL-after-finished)
// and the cronjob controller on factory (started by the caller) and
// adds those --controllers selects to set. Their events carry kube's component names.
func startBatchControllers(ctx context.Context, set *controllerSet, client kubernetes.Interface, factory informers.SharedInformerFactory, env *environment) {
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	recorder := func(component string) record.EventRecorder {
		return broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
	}
	set.add("job-controller", func() func(context.Context) {
		return job.New(client, factory, recorder("job-controller"), env.log.With("controller", "job"), clock.RealClock{}, job.Config{}).Run
	})
	set.add("cronjob-controller", func() func(context.Context) {
		return cronjob.New(client, factory, recorder("cronjob-controller"), env.log.With("controller", "cronjob"), clock.RealClock{}, cronjob.Config{}).Run
	})
}
