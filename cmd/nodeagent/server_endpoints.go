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
// when --controllers selects them, into set.
func endpointsControllers(set *controllerSet, client kubernetes.Interface, factory informers.SharedInformerFactory, env *environment) {
	set.add("endpoints-controller", func() func(context.Context) {
		return endpoints.New(client, factory, env.log.With("controller", "endpoints"), clock.RealClock{}, endpoints.Config{}).Run
	})
	set.add("endpointslice-mirroring-controller", func() func(context.Context) {
		return endpointslicemirroring.New(client, factory, env.log.With("controller", "endpointslicemirroring"), clock.RealClock{}, endpointslicemirroring.Config{}).Run
	})
}
