package main

import (
	"context"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/certificates"
)

// certificateControllers approve node client certificate requests and
// sign approved requests with the cluster CA, as kube-controller-manager's
// csrapproving and csrsigning controllers.
func certificateControllers(set *controllerSet, client kubernetes.Interface, factory informers.SharedInformerFactory, ca certificates.CA, duration time.Duration, env *environment) {
	set.add("certificatesigningrequest-approving-controller", func() func(context.Context) {
		return certificates.NewApprover(client, factory, env.log.With("controller", "csrapproving"), clock.RealClock{}).Run
	})
	set.add("certificatesigningrequest-signing-controller", func() func(context.Context) {
		return certificates.NewSigner(client, factory, ca, duration, env.log.With("controller", "csrsigning"), clock.RealClock{}).Run
	})
}
