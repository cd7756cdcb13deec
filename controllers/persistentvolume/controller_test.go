package persistentvolume

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

type harness struct {
	client *fake.Clientset
	events *record.FakeRecorder
}

func start(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	h := &harness{client: fake.NewClientset(objs...), events: record.NewFakeRecorder(1000)}
	withResourceVersions(h.client)
	factory := informers.NewSharedInformerFactory(h.client, 0)
	clk := clocktesting.NewFakeClock(time.Unix(1_000_000, 0))
	c := New(h.client, factory, h.events, slog.New(slog.NewTextHandler(io.Discard, nil)), clk, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	return h
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func (h *harness) claim(t *testing.T, name string) *corev1.PersistentVolumeClaim {
	c, err := h.client.CoreV1().PersistentVolumeClaims("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (h *harness) volume(name string) (*corev1.PersistentVolume, error) {
	return h.client.CoreV1().PersistentVolumes().Get(context.Background(), name, metav1.GetOptions{})
}

// A WaitForFirstConsumer claim waits; once the scheduler selects a node
// it gets a file-backed volume on that node, both sides Bound; deleting
// the claim releases the volume, which is deleted (reclaim Delete).
func TestProvisionBindAndReclaim(t *testing.T) {
	class := storageClass(localvolume.DefaultClass, localvolume.Driver, storagev1.VolumeBindingWaitForFirstConsumer)
	h := start(t, class, node("a"), claim("data", "256Mi", ptr(localvolume.DefaultClass)))
	ctx := context.Background()
	h.waitEvent(t, "Normal WaitForFirstConsumer waiting for first consumer to be created before binding")

	// As the scheduler does: add the annotation to the latest claim.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c := h.claim(t, "data")
		metav1.SetMetaDataAnnotation(&c.ObjectMeta, AnnSelectedNode, "a")
		_, err := h.client.CoreV1().PersistentVolumeClaims("default").Update(ctx, c, metav1.UpdateOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the claim bound", func() bool {
		c := h.claim(t, "data")
		return c.Status.Phase == corev1.ClaimBound && c.Spec.VolumeName == "pvc-uid-data"
	})
	pv, err := h.volume("pvc-uid-data")
	if err != nil || pv.Status.Phase != corev1.VolumeBound || pv.Spec.ClaimRef.UID != "uid-data" {
		t.Fatalf("volume %v %+v", err, pv)
	}
	if n, _ := localvolume.Node(pv); n != "a" {
		t.Errorf("volume on node %q", n)
	}
	c := h.claim(t, "data")
	if c.Annotations[AnnBindCompleted] != "yes" || c.Annotations[AnnBoundByController] != "yes" ||
		c.Annotations[AnnStorageProvisioner] != localvolume.Driver || c.Status.Capacity.Storage().String() != "256Mi" {
		t.Errorf("claim %+v %+v", c.Annotations, c.Status)
	}
	h.waitEvent(t, "Normal ProvisioningSucceeded Successfully provisioned volume pvc-uid-data")

	if err := h.client.CoreV1().PersistentVolumeClaims("default").Delete(ctx, "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the volume deleted", func() bool {
		_, err := h.volume("pvc-uid-data")
		return apierrors.IsNotFound(err)
	})
}

// A Retain volume is Released when its claim goes, and stays.
func TestRetainKeepsTheReleasedVolume(t *testing.T) {
	c := claim("data", "1Gi", ptr(""))
	h := start(t, c, volume("pv-1", "1Gi", phase(corev1.VolumePending)))
	eventually(t, "the static volume bound", func() bool {
		pv, err := h.volume("pv-1")
		return err == nil && pv.Status.Phase == corev1.VolumeBound && h.claim(t, "data").Status.Phase == corev1.ClaimBound
	})
	if pv, _ := h.volume("pv-1"); pv.Annotations[AnnBoundByController] != "yes" {
		t.Errorf("volume annotations %v", pv.Annotations)
	}
	if err := h.client.CoreV1().PersistentVolumeClaims("default").Delete(context.Background(), "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the volume released", func() bool {
		pv, err := h.volume("pv-1")
		return err == nil && pv.Status.Phase == corev1.VolumeReleased
	})
}

// A claim being deleted keeps its protection finalizer while a running
// pod uses it, and loses it once the pod is gone.
func TestClaimProtection(t *testing.T) {
	now := metav1.NewTime(time.Unix(1_000_000, 0))
	c := claim("data", "1Gi", ptr(""), func(c *corev1.PersistentVolumeClaim) {
		c.Finalizers = []string{ClaimProtectionFinalizer}
		c.DeletionTimestamp = &now
	})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	h := start(t, c, pod)
	h.waitEvent(t, "Normal FailedBinding no persistent volumes available for this claim and no storage class is set")
	if got := h.claim(t, "data"); !slices.Contains(got.Finalizers, ClaimProtectionFinalizer) {
		t.Fatal("finalizer removed while a pod uses the claim")
	}
	if err := h.client.CoreV1().Pods("default").Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the finalizer removed", func() bool { return len(h.claim(t, "data").Finalizers) == 0 })
}

// waitEvent waits for an event with this text.
func (h *harness) waitEvent(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	var seen []string
	for {
		select {
		case e := <-h.events.Events:
			if e == want {
				return
			}
			seen = append(seen, e)
		case <-timeout:
			t.Fatalf("no event %q; saw\n%s", want, strings.Join(seen, "\n"))
		}
	}
}
