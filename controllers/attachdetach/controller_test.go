package attachdetach

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func usingData(p *corev1.Pod) *corev1.Pod {
	p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	p.Status.Phase = corev1.PodRunning
	return p
}

// One node has the ReadWriteOnce volume, attached; a pod on a second node
// waits with one Multi-Attach event until the first pod is gone and the
// volume is detached from its node.
func TestControllerMultiAttach(t *testing.T) {
	pv := localVolume("pvc-1", "a", corev1.ReadWriteOnce)
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{VolumeName: pv.Name}}
	web := usingData(testPod("default", "web", "a", time.Hour))
	client := fake.NewClientset(pv, claim, web)
	events := record.NewFakeRecorder(100)
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory, events, slog.New(slog.NewTextHandler(io.Discard, nil)), clocktesting.NewFakeClock(time.Unix(1_000_000, 0)), Config{})
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })

	vas := client.StorageV1().VolumeAttachments()
	name := localvolume.AttachmentName(pv.Name, localvolume.Driver, "a")
	eventually(t, "the volume attached to a", func() bool {
		va, err := vas.Get(ctx, name, metav1.GetOptions{})
		return err == nil && va.Status.Attached && va.Spec.NodeName == "a" && *va.Spec.Source.PersistentVolumeName == pv.Name
	})
	wantEvent(t, events, `Normal SuccessfulAttachVolume AttachVolume.Attach succeeded for volume "pvc-1"`)

	other := usingData(testPod("default", "other", "b", 0))
	create(t, client, other)
	wantEvent(t, events, `Warning FailedAttachVolume Multi-Attach error for volume "pvc-1" Volume is already used by pod(s) web`)
	if l, _ := vas.List(ctx, metav1.ListOptions{}); len(l.Items) != 1 {
		t.Fatalf("attachments %d", len(l.Items))
	}
	// Another change of the waiting pod: no second event.
	other.Labels = map[string]string{"x": "y"}
	if _, err := client.CoreV1().Pods("default").Update(ctx, other, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().Pods("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the volume moved to b", func() bool {
		l, _ := vas.List(ctx, metav1.ListOptions{})
		return len(l.Items) == 1 && l.Items[0].Spec.NodeName == "b"
	})
	for len(events.Events) > 0 {
		if e := <-events.Events; strings.Contains(e, "Multi-Attach") {
			t.Errorf("event again: %s", e)
		}
	}
}

func create(t *testing.T, client *fake.Clientset, obj runtime.Object) {
	t.Helper()
	if err := client.Tracker().Add(obj); err != nil {
		t.Fatal(err)
	}
}

func wantEvent(t *testing.T, events *record.FakeRecorder, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	var seen []string
	for {
		select {
		case e := <-events.Events:
			if e == want {
				return
			}
			seen = append(seen, e)
		case <-timeout:
			t.Fatalf("no event %q; saw %v", want, seen)
		}
	}
}
