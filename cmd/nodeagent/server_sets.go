package main

import (
	"context"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/daemonset"
	"github.com/nodeagent/nodeagent/controllers/statefulset"
)

// startSetControllers builds the DaemonSet and StatefulSet controllers on
// factory (started by the caller) and returns their Run functions.
func startSetControllers(client kubernetes.Interface, factory informers.SharedInformerFactory, env *environment) []func(context.Context) {
	ds := daemonset.New(client, factory, env.log.With("controller", "daemonset"), clock.RealClock{})
	sts := statefulset.New(client, factory, env.log.With("controller", "statefulset"), clock.RealClock{})
	return []func(context.Context){ds.Run, sts.Run}
}
