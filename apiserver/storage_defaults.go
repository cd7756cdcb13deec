package apiserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/apiserver/admission"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// defaultStorageObjects are what every nodeagent cluster starts with: the
// default StorageClass, whose volumes are files on the node the first pod
// lands on, and the CSIDriver object of that driver.
func defaultStorageObjects() []runtime.Object {
	wffc := storagev1.VolumeBindingWaitForFirstConsumer
	del := corev1.PersistentVolumeReclaimDelete
	class := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: localvolume.DefaultClass,
		Annotations: map[string]string{admission.IsDefaultClassAnnotation: "true"}},
		Provisioner: localvolume.Driver, ReclaimPolicy: &del, VolumeBindingMode: &wffc}
	fsGroup := storagev1.FileFSGroupPolicy
	driver := &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: localvolume.Driver},
		Spec: storagev1.CSIDriverSpec{AttachRequired: ptrTo(true), PodInfoOnMount: ptrTo(false), FSGroupPolicy: &fsGroup,
			VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent}}}
	return []runtime.Object{class, driver}
}

// ensureStorageDefaults creates the default storage objects that are
// missing; it leaves alone those an admin changed.
func (s *Server) ensureStorageDefaults(ctx context.Context) error {
	for _, obj := range defaultStorageObjects() {
		if err := s.ensureObject(ctx, obj); err != nil {
			return err
		}
	}
	return nil
}

// ensureObject creates a cluster-scoped object, defaulted and validated as
// a create through the API would be, unless one of its name exists.
func (s *Server) ensureObject(ctx context.Context, obj runtime.Object) error {
	gvks, _, err := s.codecs.scheme.ObjectKinds(obj)
	if err != nil {
		return err
	}
	var res *resource
	for _, r := range s.reg.list {
		if r.gvk == gvks[0] {
			res = r
		}
	}
	if res == nil {
		return fmt.Errorf("no served resource for %s", gvks[0])
	}
	m := obj.(metav1.Object)
	m.SetUID(newUID())
	m.SetCreationTimestamp(metav1.NewTime(s.now()))
	m.SetGeneration(1)
	res.strategy.defaults(obj)
	if errs := res.strategy.validate(obj); len(errs) > 0 {
		return fmt.Errorf("%s %s: %w", res.gvk.Kind, m.GetName(), errs.ToAggregate())
	}
	if _, err := s.store(res).Create(ctx, "", m.GetName(), obj); err != nil && !storage.IsExists(err) {
		return fmt.Errorf("create %s %s: %w", res.gvk.Kind, m.GetName(), err)
	}
	return nil
}

// classLister reads StorageClasses from storage for admission.
type classLister struct{ s *Server }

func (l classLister) StorageClasses(ctx context.Context) ([]*storagev1.StorageClass, error) {
	res, _ := l.s.reg.lookup(storageV1.Group, storageV1.Version, "storageclasses")
	page, err := l.s.store(res).List(ctx, "", storage.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]*storagev1.StorageClass, len(page.Items))
	for i, obj := range page.Items {
		out[i] = obj.(*storagev1.StorageClass)
	}
	return out, nil
}

func ptrTo[T any](v T) *T { return &v }
