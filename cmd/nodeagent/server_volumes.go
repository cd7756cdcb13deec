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
// the caller) and returns their Run functions. Their events go through
// one broadcaster, each under its kube component name.
func startVolumeControllers(ctx context.Context, client kubernetes.Interface, factory informers.SharedInformerFactory, rootCA []byte, env *environment) ([]func(context.Context), error) {
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	recorder := func(component string) record.EventRecorder {
		return broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
	}
	pv := persistentvolume.New(client, factory, recorder("persistentvolume-controller"),
		env.log.With("controller", "persistentvolume"), clock.RealClock{}, persistentvolume.Config{})
	ad := attachdetach.New(client, factory, recorder("attachdetach-controller"),
		env.log.With("controller", "attachdetach"), clock.RealClock{}, attachdetach.Config{})
	eph := ephemeral.New(client, factory, env.log.With("controller", "ephemeral-volume"), clock.RealClock{}, ephemeral.Config{})
	sa := serviceaccount.New(client, factory, env.log.With("controller", "serviceaccount"), clock.RealClock{})
	ca, err := rootcacert.New(client, factory, rootCA, env.log.With("controller", "root-ca-cert-publisher"), clock.RealClock{})
	if err != nil {
		return nil, err
	}
	return []func(context.Context){pv.Run, ad.Run, eph.Run, sa.Run, ca.Run}, nil
}
