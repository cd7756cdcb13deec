package ephemeral

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"
)

func ephemeralPod(name string) *corev1.Pod {
	class := "nodeagent-local"
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: "uid-" + "pod"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{
			Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"type": "scratch"}},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: &class,
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceStorage: resource.MustParse("64Mi")}}}}}}}}}}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// A pod's ephemeral volume gets its claim, owned by the pod; the claim goes
// when the pod does; a claim nobody owns stays.
func TestEphemeralClaimLifecycle(t *testing.T) {
	stranger := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "stranger"}}
	client := fake.NewClientset(ephemeralPod("web"), stranger)
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory, slog.New(slog.NewTextHandler(io.Discard, nil)), clocktesting.NewFakeClock(time.Unix(1_000_000, 0)), Config{})
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })

	claims := client.CoreV1().PersistentVolumeClaims("default")
	var got *corev1.PersistentVolumeClaim
	eventually(t, "the claim", func() bool {
		var err error
		got, err = claims.Get(ctx, "web-scratch", metav1.GetOptions{})
		return err == nil
	})
	owner := metav1.GetControllerOf(got)
	if owner == nil || owner.Kind != "Pod" || owner.Name != "web" || owner.UID != "uid-pod" || !*owner.BlockOwnerDeletion ||
		got.Labels["type"] != "scratch" || *got.Spec.StorageClassName != "nodeagent-local" {
		t.Errorf("claim %+v", got)
	}
	if err := client.CoreV1().Pods("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the claim deleted with its pod", func() bool {
		_, err := claims.Get(ctx, "web-scratch", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if _, err := claims.Get(ctx, "stranger", metav1.GetOptions{}); err != nil {
		t.Errorf("a claim no pod owns: %v", err)
	}
}
