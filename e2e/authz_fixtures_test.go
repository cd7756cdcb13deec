//go:build linux && e2e

package e2e

import (
	"context"
	"fmt"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/lab"
)

// The objects the authorization matrix acts on. Each request acts on a
// fresh object (named m001, m002, ...) that the admin creates first, so
// that one row's writes never change another row's answer; every fixture
// carries the label matrix=<its name>, which a deletecollection selects.

const (
	matrixNS = "matrix" // where the namespaced fixtures live
	victimNS = "victim" // the "another namespace"
)

// fixtures creates the objects as admin.
type fixtures struct {
	t   *testing.T
	c   kubernetes.Interface
	ctx context.Context
	n   int
}

func newFixtures(t *testing.T, node *lab.Node, srv *framework.APIServer) *fixtures {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", srv.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dial = node.DialContext
	cfg.QPS = -1 // no client-side throttling: hundreds of fixtures
	return &fixtures{t: t, c: kubernetes.NewForConfigOrDie(cfg), ctx: context.Background()}
}

// fresh is a new object name.
func (f *fixtures) fresh() string {
	f.n++
	return fmt.Sprintf("m%03d", f.n)
}

// ensure creates the objects, leaving those that exist as they are.
func (f *fixtures) ensure(objs ...runtime.Object) {
	f.t.Helper()
	for _, o := range objs {
		if err := f.create(o); err != nil && !apierrors.IsAlreadyExists(err) {
			f.t.Fatalf("fixture %T: %v", o, err)
		}
	}
}

func (f *fixtures) create(o runtime.Object) error {
	core, opts := f.c.CoreV1(), metav1.CreateOptions{}
	var err error
	switch o := o.(type) {
	case *corev1.Namespace:
		_, err = core.Namespaces().Create(f.ctx, o, opts)
	case *corev1.Node:
		_, err = core.Nodes().Create(f.ctx, o, opts)
	case *corev1.Pod:
		_, err = core.Pods(o.Namespace).Create(f.ctx, o, opts)
	case *corev1.Secret:
		_, err = core.Secrets(o.Namespace).Create(f.ctx, o, opts)
	case *corev1.ConfigMap:
		_, err = core.ConfigMaps(o.Namespace).Create(f.ctx, o, opts)
	case *corev1.PersistentVolume:
		_, err = core.PersistentVolumes().Create(f.ctx, o, opts)
	case *corev1.PersistentVolumeClaim:
		_, err = core.PersistentVolumeClaims(o.Namespace).Create(f.ctx, o, opts)
	case *corev1.Service:
		_, err = core.Services(o.Namespace).Create(f.ctx, o, opts)
	case *corev1.ServiceAccount:
		_, err = core.ServiceAccounts(o.Namespace).Create(f.ctx, o, opts)
	case *corev1.Event:
		_, err = core.Events(o.Namespace).Create(f.ctx, o, opts)
	case *discoveryv1.EndpointSlice:
		_, err = f.c.DiscoveryV1().EndpointSlices(o.Namespace).Create(f.ctx, o, opts)
	case *coordinationv1.Lease:
		_, err = f.c.CoordinationV1().Leases(o.Namespace).Create(f.ctx, o, opts)
	case *storagev1.StorageClass:
		_, err = f.c.StorageV1().StorageClasses().Create(f.ctx, o, opts)
	case *storagev1.CSIDriver:
		_, err = f.c.StorageV1().CSIDrivers().Create(f.ctx, o, opts)
	case *storagev1.VolumeAttachment:
		_, err = f.c.StorageV1().VolumeAttachments().Create(f.ctx, o, opts)
	case *schedulingv1.PriorityClass:
		_, err = f.c.SchedulingV1().PriorityClasses().Create(f.ctx, o, opts)
	default:
		err = f.createRBAC(o)
	}
	return err
}

// nodeUID is the UID of a Node (the owner of its mirror pods).
func (f *fixtures) nodeUID(name string) types.UID {
	f.t.Helper()
	n, err := f.c.CoreV1().Nodes().Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatalf("node %s: %v", name, err)
	}
	return n.UID
}

func objectMeta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"matrix": name}}
}

// pod is a pod in ns bound to node ("": unbound, and left alone by the
// scheduler), with volumes.
func pod(ns, name, node string, vols ...corev1.Volume) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: objectMeta(ns, name), Spec: corev1.PodSpec{NodeName: node, Volumes: vols,
		Containers: []corev1.Container{{Name: "c", Image: framework.TestImage()}}}}
	if node == "" {
		p.Spec.SchedulerName = "matrix-no-scheduler"
	}
	return p
}

// mirrorPod is node's mirror pod as its agent makes it.
func (f *fixtures) mirrorPod(ns, name, node string, vols ...corev1.Volume) *corev1.Pod {
	p := pod(ns, name, node, vols...)
	p.Annotations = map[string]string{"kubernetes.io/config.mirror": "matrix"}
	yes := true
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node,
		UID: f.nodeUID(node), Controller: &yes}}
	return p
}

func secretVolume(name string) corev1.Volume {
	return corev1.Volume{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}}
}

func configMapVolume(name string) corev1.Volume {
	return corev1.Volume{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}}}}
}

func claimVolume(name string) corev1.Volume {
	return corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name}}}
}

func secret(ns, name string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: objectMeta(ns, name), StringData: map[string]string{"password": "matrix"}}
}

func configMap(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: objectMeta(ns, name), Data: map[string]string{"k": "v"}}
}

func volume(name string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: objectMeta("", name), Spec: corev1.PersistentVolumeSpec{
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/matrix-" + name}}}}
}

func claim(ns, name, volumeName string) *corev1.PersistentVolumeClaim {
	none := ""
	return &corev1.PersistentVolumeClaim{ObjectMeta: objectMeta(ns, name), Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, VolumeName: volumeName, StorageClassName: &none,
		Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
}

func service(ns, name string) *corev1.Service {
	return &corev1.Service{ObjectMeta: objectMeta(ns, name), Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
}

func endpointSlice(ns, name string) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: objectMeta(ns, name), AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.244.9.9"}}}}
}

func lease(ns, name string) *coordinationv1.Lease {
	return &coordinationv1.Lease{ObjectMeta: objectMeta(ns, name)}
}

func event(ns, name string) *corev1.Event {
	return &corev1.Event{ObjectMeta: objectMeta(ns, name), Reason: "Matrix", Message: "m", Type: corev1.EventTypeNormal,
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "x"}}
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: objectMeta("", name)}
}

func node(name string) *corev1.Node {
	return &corev1.Node{ObjectMeta: objectMeta("", name)}
}

func serviceAccount(ns, name string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: objectMeta(ns, name)}
}

// podUID is the UID of a pod, "" when there is none (an identity that does
// not get past authentication made no fixture).
func (f *fixtures) podUID(ns, name string) types.UID {
	p, err := f.c.CoreV1().Pods(ns).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	return p.UID
}

// localVolume is a local.nodeagent.io volume that lives on node.
func localVolume(name, node string) *corev1.PersistentVolume {
	pv := volume(name)
	pv.Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
		Driver: localvolume.Driver, VolumeHandle: name, VolumeAttributes: localvolume.Attributes(1 << 30)}}
	pv.Spec.NodeAffinity = localvolume.NodeAffinity(node)
	return pv
}

func storageClass(name string) *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: objectMeta("", name), Provisioner: "matrix.example.com"}
}

func priorityClass(name string) *schedulingv1.PriorityClass {
	return &schedulingv1.PriorityClass{ObjectMeta: objectMeta("", name), Value: 10}
}

func csiDriver(name string) *storagev1.CSIDriver {
	return &storagev1.CSIDriver{ObjectMeta: objectMeta("", name)}
}

// attachment attaches a volume that does not exist to node (its name is
// not the attach/detach controller's, which leaves it alone).
func attachment(name, node string) *storagev1.VolumeAttachment {
	pv := name + "-pv"
	return &storagev1.VolumeAttachment{ObjectMeta: objectMeta("", name), Spec: storagev1.VolumeAttachmentSpec{
		Attacher: "matrix.example.com", NodeName: node, Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: &pv}}}
}
