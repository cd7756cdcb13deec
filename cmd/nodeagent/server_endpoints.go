package main

import (
	"context"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/endpoints"
	"github.com/nodeagent/nodeagent/controllers/endpointslicemirroring"
)

// endpointsControllers builds the v1 Endpoints controller and the
// EndpointSlice mirroring controller on factory (started by the caller)
// and returns their Run functions.
func endpointsControllers(client kubernetes.Interface, factory informers.SharedInformerFactory, env *environment) []func(context.Context) {
	ep := endpoints.New(client, factory, env.log.With("controller", "endpoints"), clock.RealClock{}, endpoints.Config{})
	mirror := endpointslicemirroring.New(client, factory, env.log.With("controller", "endpointslicemirroring"), clock.RealClock{}, endpointslicemirroring.Config{})
	return []func(context.Context){ep.Run, mirror.Run}
}
