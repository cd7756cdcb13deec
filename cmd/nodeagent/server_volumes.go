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

	"github.com/nodeagent/nodeagent/controllers/attachdetach"
	"github.com/nodeagent/nodeagent/controllers/ephemeral"
	"github.com/nodeagent/nodeagent/controllers/persistentvolume"
	"github.com/nodeagent/nodeagent/controllers/rootcacert"
	"github.com/nodeagent/nodeagent/controllers/serviceaccount"
)

// startVolumeControllers builds the volume controllers, the service
// account controller and the root CA publisher (pods' tokens and the CA
// bundle rootCA of their kube-api-access volumes) on factory (started by
// the caller) when --controllers selects them, into set. Their events go through
// one broadcaster, each under its kube component name.
func startVolumeControllers(ctx context.Context, set *controllerSet, client kubernetes.Interface, factory informers.SharedInformerFactory, rootCA []byte, env *environment) {
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	recorder := func(component string) record.EventRecorder {
		return broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
	}
	set.add("persistentvolume-binder-controller", func() func(context.Context) {
		return persistentvolume.New(client, factory, recorder("persistentvolume-controller"),
			env.log.With("controller", "persistentvolume"), clock.RealClock{}, persistentvolume.Config{}).Run
	})
	set.add("persistentvolume-attach-detach-controller", func() func(context.Context) {
		return attachdetach.New(client, factory, recorder("attachdetach-controller"),
			env.log.With("controller", "attachdetach"), clock.RealClock{}, attachdetach.Config{}).Run
	})
	set.add("ephemeral-volume-controller", func() func(context.Context) {
		return ephemeral.New(client, factory, env.log.With("controller", "ephemeral-volume"), clock.RealClock{}, ephemeral.Config{}).Run
	})
	set.add("serviceaccount-controller", func() func(context.Context) {
		return serviceaccount.New(client, factory, env.log.With("controller", "serviceaccount"), clock.RealClock{}).Run
	})
	set.addErr("root-ca-certificate-publisher-controller", func() (func(context.Context), error) {
		ca, err := rootcacert.New(client, factory, rootCA, env.log.With("controller", "root-ca-cert-publisher"), clock.RealClock{})
		if err != nil {
			return nil, err
		}
		return ca.Run, nil
	})
}
