package main

import (
	"context"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/daemonset"
)

// startSetControllers builds the DaemonSet controller on factory
// (started by the caller) and returns its Run function.
func startSetControllers(client kubernetes.Interface, factory informers.SharedInformerFactory, env *environment) []func(context.Context) {
	ds := daemonset.New(client, factory, env.log.With("controller", "daemonset"), clock.RealClock{})
	return []func(context.Context){ds.Run}
}
