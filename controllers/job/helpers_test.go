package job

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
)

var epoch = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

type harness struct {
	t      *testing.T
	client *fake.Clientset
	clock  *clocktesting.FakeClock
	events *record.FakeRecorder
	ctx    context.Context
}

// start runs a controller on a fake clientset that names pods from their
// generateName and gives created objects a UID, as the server does.
func start(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	h := &harness{t: t, client: fake.NewClientset(objs...), clock: clocktesting.NewFakeClock(epoch),
		events: record.NewFakeRecorder(1000)}
	var n atomic.Int64
	h.client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		pod := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		if pod.Name == "" {
			pod.Name = fmt.Sprintf("%s%05d", pod.GenerateName, n.Add(1))
		}
		pod.UID = types.UID("uid-" + pod.Name)
		pod.CreationTimestamp = metav1.NewTime(h.clock.Now())
		return false, nil, nil
	})
	h.client.PrependReactor("update", "*", statusOnly(h.client))
	h.client.PrependReactor("delete", "pods", h.deleteWithFinalizers)
	h.client.PrependReactor("patch", "pods", h.patchThenRelease)
	factory := informers.NewSharedInformerFactory(h.client, 0)
	c := New(h.client, factory, h.events, slog.New(slog.NewTextHandler(t.Output(), nil)), h.clock, Config{ResyncPeriod: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	h.ctx = ctx
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	return h
}

func newJob(name string, mutate func(*batchv1.Job)) *batchv1.Job {
	uid := types.UID("job-uid-" + name)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: uid},
		Spec: batchv1.JobSpec{
			Parallelism: ptr[int32](1), Completions: ptr[int32](1), BackoffLimit: ptr[int32](6),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelControllerUID: string(uid)}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{LabelControllerUID: string(uid), LabelJobName: name, "app": "batch"}},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "main", Image: "busybox"}}},
			},
		},
	}
	if mutate != nil {
		mutate(job)
	}
	return job
}

func ptr[T any](v T) *T { return &v }

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 2*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func (h *harness) job(name string) *batchv1.Job {
	h.t.Helper()
	job, err := h.client.BatchV1().Jobs("default").Get(h.ctx, name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return job
}

// pods are the job's pods in the fake server, the ones not being deleted
// when live.
func (h *harness) pods(live bool) []corev1.Pod {
	h.t.Helper()
	list, err := h.client.CoreV1().Pods("default").List(h.ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if !live || (p.DeletionTimestamp == nil && !terminal(&p)) {
			out = append(out, p)
		}
	}
	return out
}

func (h *harness) waitLive(n int) []corev1.Pod {
	h.t.Helper()
	var pods []corev1.Pod
	eventually(h.t, fmt.Sprintf("%d live pods", n), func() bool { pods = h.pods(true); return len(pods) == n })
	return pods
}

// finish ends the pod in phase with the main container's exit code.
func (h *harness) finish(pod corev1.Pod, phase corev1.PodPhase, code int32, conds ...corev1.PodCondition) {
	h.t.Helper()
	pod.Status.Phase = phase
	pod.Status.Conditions = append(pod.Status.Conditions, conds...)
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}}
	if _, err := h.client.CoreV1().Pods("default").UpdateStatus(h.ctx, &pod, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) waitJob(name, what string, cond func(*batchv1.Job) bool) *batchv1.Job {
	h.t.Helper()
	var job *batchv1.Job
	defer func() {
		if h.t.Failed() && job != nil {
			h.t.Logf("job status %+v", job.Status)
		}
	}()
	eventually(h.t, what, func() bool { job = h.job(name); return cond(job) })
	return job
}

func (h *harness) waitEvent(substr string) {
	h.t.Helper()
	eventually(h.t, "event "+substr, func() bool {
		for {
			select {
			case e := <-h.events.Events:
				if strings.Contains(e, substr) {
					return true
				}
			default:
				return false
			}
		}
	})
}

// noFinalizers: every pod of the fake server has lost the tracking finalizer.
func (h *harness) waitNoFinalizers() {
	h.t.Helper()
	eventually(h.t, "the finalizers removed", func() bool {
		for _, p := range h.pods(false) {
			if hasFinalizer(&p) && (terminal(&p) || p.DeletionTimestamp != nil) {
				return false
			}
		}
		return true
	})
}

func condTrue(job *batchv1.Job, t batchv1.JobConditionType) bool { return hasTrue(&job.Status, t) }

// suspend sets spec.suspend (a patch: the spec only, as a user's update).
func (h *harness) suspend(name string, on bool) {
	h.t.Helper()
	patch := fmt.Sprintf(`{"spec":{"suspend":%t}}`, on)
	if _, err := h.client.BatchV1().Jobs("default").Patch(h.ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// statusOnly makes an update of the status subresource change only the
// status, as the server's does (the fake stores the whole object).
func statusOnly(client *fake.Clientset) k8stesting.ReactionFunc {
	return func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.UpdateAction)
		if u.GetSubresource() != "status" {
			return false, nil, nil
		}
		obj := u.GetObject()
		name := obj.(metav1.Object).GetName()
		cur, err := client.Tracker().Get(u.GetResource(), u.GetNamespace(), name)
		if err != nil {
			return true, nil, err
		}
		switch cur := cur.(type) {
		case *batchv1.Job:
			cur.Status = obj.(*batchv1.Job).Status
		case *corev1.Pod:
			cur.Status = obj.(*corev1.Pod).Status
		default:
			return false, nil, nil
		}
		return true, cur, client.Tracker().Update(u.GetResource(), cur, u.GetNamespace())
	}
}

// deleteWithFinalizers: deleting a pod that has finalizers marks it
// (deletionTimestamp) and keeps it, as the server does.
func (h *harness) deleteWithFinalizers(a k8stesting.Action) (bool, runtime.Object, error) {
	d := a.(k8stesting.DeleteAction)
	obj, err := h.client.Tracker().Get(d.GetResource(), d.GetNamespace(), d.GetName())
	if err != nil {
		return false, nil, nil
	}
	pod := obj.(*corev1.Pod)
	if len(pod.Finalizers) == 0 {
		return false, nil, nil
	}
	if pod.DeletionTimestamp == nil {
		now := metav1.NewTime(h.clock.Now())
		pod.DeletionTimestamp = &now
	}
	return true, pod, h.client.Tracker().Update(d.GetResource(), pod, d.GetNamespace())
}

// patchThenRelease applies a strategic merge patch to a pod and removes a
// marked pod once its last finalizer is gone, as the server does.
func (h *harness) patchThenRelease(a k8stesting.Action) (bool, runtime.Object, error) {
	p := a.(k8stesting.PatchAction)
	if p.GetPatchType() != types.StrategicMergePatchType {
		return false, nil, nil
	}
	obj, err := h.client.Tracker().Get(p.GetResource(), p.GetNamespace(), p.GetName())
	if err != nil {
		return true, nil, err
	}
	orig, err := json.Marshal(obj)
	if err != nil {
		return true, nil, err
	}
	patched, err := strategicpatch.StrategicMergePatch(orig, p.GetPatch(), &corev1.Pod{})
	if err != nil {
		return true, nil, err
	}
	pod := &corev1.Pod{}
	if err := json.Unmarshal(patched, pod); err != nil {
		return true, nil, err
	}
	if pod.DeletionTimestamp != nil && len(pod.Finalizers) == 0 {
		return true, pod, h.client.Tracker().Delete(p.GetResource(), p.GetNamespace(), p.GetName())
	}
	return true, pod, h.client.Tracker().Update(p.GetResource(), pod, p.GetNamespace())
}
