package apiserver

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

func testClaim(name string, class *string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: class,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: apiresource.MustParse("256Mi")}}}}
}

// The server starts with the default class and the driver's CSIDriver; a
// claim that names no class gets the default, one that names "" keeps it.
func TestDefaultStorageClassAndAdmission(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	sc, err := c.StorageV1().StorageClasses().Get(bg, localvolume.DefaultClass, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Provisioner != localvolume.Driver || *sc.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer ||
		*sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete || sc.Annotations["storageclass.kubernetes.io/is-default-class"] != "true" {
		t.Errorf("default class: %+v", sc)
	}
	d, err := c.StorageV1().CSIDrivers().Get(bg, localvolume.Driver, metav1.GetOptions{})
	if err != nil || !*d.Spec.AttachRequired {
		t.Fatalf("csidriver: %v %+v", err, d)
	}
	claims := c.CoreV1().PersistentVolumeClaims("default")
	got, err := claims.Create(bg, testClaim("data", nil), metav1.CreateOptions{})
	if err != nil || got.Spec.StorageClassName == nil || *got.Spec.StorageClassName != localvolume.DefaultClass {
		t.Fatalf("claim without a class: %v %v", err, got.Spec.StorageClassName)
	}
	if !slices.Equal(got.Finalizers, []string{"kubernetes.io/pvc-protection"}) {
		t.Errorf("claim finalizers %v", got.Finalizers)
	}
	empty := ""
	got, err = claims.Create(bg, testClaim("static", &empty), metav1.CreateOptions{})
	if err != nil || *got.Spec.StorageClassName != "" {
		t.Fatalf("claim with class \"\": %v %v", err, got.Spec.StorageClassName)
	}
	// Without a default class nothing is set.
	sc.Annotations = nil
	if _, err := c.StorageV1().StorageClasses().Update(bg, sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err = claims.Create(bg, testClaim("nodefault", nil), metav1.CreateOptions{})
	if err != nil || got.Spec.StorageClassName != nil {
		t.Fatalf("claim with no default class: %v %v", err, got.Spec.StorageClassName)
	}
}

// The storage.k8s.io objects are validated with kube's field paths and
// messages.
func TestStorageObjectsValidation(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t).StorageV1()
	sc, err := c.StorageClasses().Get(bg, localvolume.DefaultClass, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Parameters = map[string]string{"x": "y"}
	_, err = c.StorageClasses().Update(bg, sc, metav1.UpdateOptions{})
	wantInvalidParts(t, err, `StorageClass.storage.k8s.io "nodeagent-local" is invalid: parameters: Forbidden: updates to parameters are forbidden.`)
	bad := storagev1.VolumeBindingMode("Later")
	_, err = c.StorageClasses().Create(bg, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "x"},
		VolumeBindingMode: &bad}, metav1.CreateOptions{})
	wantInvalidParts(t, err, `provisioner: Required value`, `volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"`)

	_, err = c.VolumeAttachments().Create(bg, &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: "va"},
		Spec: storagev1.VolumeAttachmentSpec{Attacher: localvolume.Driver, NodeName: "a"}}, metav1.CreateOptions{})
	wantInvalidParts(t, err, `spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName`)
	pv := "pv-1"
	va, err := c.VolumeAttachments().Create(bg, &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: "va"},
		Spec:   storagev1.VolumeAttachmentSpec{Attacher: localvolume.Driver, NodeName: "a", Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: &pv}},
		Status: storagev1.VolumeAttachmentStatus{Attached: true}}, metav1.CreateOptions{})
	if err != nil || va.Status.Attached {
		t.Fatalf("create keeps no status: %v %+v", err, va.Status)
	}
	va.Spec.NodeName = "b"
	_, err = c.VolumeAttachments().Update(bg, va, metav1.UpdateOptions{})
	wantInvalidParts(t, err, `spec: Invalid value: `, `field is immutable`)
	va.Spec.NodeName, va.Status.Attached = "a", true
	if va, err = c.VolumeAttachments().UpdateStatus(bg, va, metav1.UpdateOptions{}); err != nil || !va.Status.Attached {
		t.Fatalf("status update: %v %+v", err, va.Status)
	}
}

func wantInvalidParts(t *testing.T, err error, parts ...string) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Fatalf("want 422 Invalid, got %v", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q lacks %q", err, p)
		}
	}
}

// A claim's spec stays after creation (volumeName and class may be set
// where there were none); its request grows only when bound and its class
// allows expansion.
func TestClaimUpdates(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	claims := ts.admin(t).CoreV1().PersistentVolumeClaims("default")
	c, err := claims.Create(bg, testClaim("data", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Spec.VolumeName = "pv-1"
	if c, err = claims.Update(bg, c, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("set volumeName: %v", err)
	}
	c.Spec.VolumeName = "pv-2"
	_, err = claims.Update(bg, c, metav1.UpdateOptions{})
	wantInvalidParts(t, err, `PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims`)
	c.Spec.VolumeName = "pv-1"
	c.Spec.Resources.Requests[corev1.ResourceStorage] = apiresource.MustParse("1Gi")
	_, err = claims.Update(bg, c, metav1.UpdateOptions{})
	wantForbidden(t, "grow a pending claim", err, `persistentvolumeclaims "data" is forbidden: Only bound persistent volume claims can be expanded`)
	c.Status.Phase = corev1.ClaimBound
	if c, err = claims.UpdateStatus(bg, c, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Spec.Resources.Requests[corev1.ResourceStorage] = apiresource.MustParse("1Gi")
	_, err = claims.Update(bg, c, metav1.UpdateOptions{})
	wantForbidden(t, "grow a bound claim of nodeagent-local", err, `persistentvolumeclaims "data" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize`)
	c.Spec.Resources.Requests[corev1.ResourceStorage] = apiresource.MustParse("1Mi")
	_, err = claims.Update(bg, c, metav1.UpdateOptions{})
	wantInvalidParts(t, err, `spec.resources.requests.storage: Forbidden: field can not be less than previous value`)
}
