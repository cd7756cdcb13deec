package cronjob

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
)

type harness struct {
	t      *testing.T
	client *fake.Clientset
	clock  *clocktesting.FakeClock
	events *record.FakeRecorder
	ctx    context.Context
}

func start(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	h := &harness{t: t, client: fake.NewClientset(objs...), clock: clocktesting.NewFakeClock(epoch), events: record.NewFakeRecorder(1000)}
	h.client.PrependReactor("create", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		job := a.(k8stesting.CreateAction).GetObject().(*batchv1.Job)
		job.UID = types.UID("uid-" + job.Name)
		job.CreationTimestamp = metav1.NewTime(h.clock.Now())
		return false, nil, nil
	})
	h.client.PrependReactor("update", "cronjobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.UpdateAction)
		if u.GetSubresource() != "status" {
			return false, nil, nil
		}
		obj := u.GetObject().(*batchv1.CronJob)
		cur, err := h.client.Tracker().Get(u.GetResource(), u.GetNamespace(), obj.Name)
		if err != nil {
			return true, nil, err
		}
		cj := cur.(*batchv1.CronJob)
		cj.Status = obj.Status
		return true, cj, h.client.Tracker().Update(u.GetResource(), cj, u.GetNamespace())
	})
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

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 2*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func (h *harness) cronJob(name string) *batchv1.CronJob {
	h.t.Helper()
	cj, err := h.client.BatchV1().CronJobs("default").Get(h.ctx, name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return cj
}

func (h *harness) jobNames() []string {
	h.t.Helper()
	list, err := h.client.BatchV1().Jobs("default").List(h.ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, j := range list.Items {
		out = append(out, j.Name)
	}
	return out
}

// stepUntil moves the fake clock a second at a time until cond holds: the
// controller sets its timer once its cache has what the test waited for.
func (h *harness) stepUntil(what string, cond func() bool) {
	h.t.Helper()
	eventually(h.t, what, func() bool {
		if cond() {
			return true
		}
		h.clock.Step(time.Second)
		return false
	})
}

func (h *harness) complete(name string) {
	h.t.Helper()
	job, err := h.client.BatchV1().Jobs("default").Get(h.ctx, name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	now := metav1.NewTime(h.clock.Now())
	job.Status.CompletionTime = &now
	job.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	if _, err := h.client.BatchV1().Jobs("default").UpdateStatus(h.ctx, job, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// A Forbid cronjob runs at its start time (status active and
// lastScheduleTime), skips while that run is active, records
// lastSuccessfulTime when it completes, and keeps one finished run
// (successfulJobsHistoryLimit 1). A job made by hand from it (kubectl
// create job --from=cronjob) is not a scheduled run: not active, and it
// does not stop a Forbid run.
func TestCronJobRuns(t *testing.T) {
	cj := newCronJob("tick", "*/5 * * * *", func(cj *batchv1.CronJob) {
		cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent
		cj.Spec.SuccessfulJobsHistoryLimit = ptr[int32](1)
	})
	manualJob := runningJob(cj, "tick-manual-x")
	manualJob.Annotations = map[string]string{InstantiateAnnotation: "manual"}
	h := start(t, cj, manualJob)
	first := jobName(cj, epoch.Add(5*time.Minute))
	h.stepUntil("the 08:05 run", func() bool { return strings.Contains(strings.Join(h.jobNames(), ","), first) })
	eventually(t, "status of the first run", func() bool {
		st := h.cronJob("tick").Status
		return len(st.Active) == 1 && st.Active[0].Name == first && st.LastScheduleTime != nil &&
			st.LastScheduleTime.Time.Equal(epoch.Add(5*time.Minute))
	})
	// 08:10 comes while the first run is active: Forbid skips it.
	h.clock.SetTime(epoch.Add(10*time.Minute + time.Second))
	h.clock.Step(time.Second)
	eventually(t, "the Forbid event", func() bool {
		for {
			select {
			case e := <-h.events.Events:
				if strings.Contains(e, "JobAlreadyActive") {
					return true
				}
			default:
				return false
			}
		}
	})
	if n := len(h.jobNames()); n != 2 {
		t.Fatalf("jobs %v, want the manual one and the first run", h.jobNames())
	}
	h.complete(first)
	second := jobName(cj, epoch.Add(10*time.Minute))
	eventually(t, "the skipped 08:10 run started once the first finished", func() bool {
		return strings.Contains(strings.Join(h.jobNames(), ","), second)
	})
	// the status is written after the job is created
	eventually(t, "the second run active, the first's success recorded", func() bool {
		st := h.cronJob("tick").Status
		return st.LastSuccessfulTime != nil && len(st.Active) == 1 && st.Active[0].Name == second
	})
	h.complete(second)
	eventually(t, "the first run deleted past the history limit", func() bool {
		_, err := h.client.BatchV1().Jobs("default").Get(h.ctx, first, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if _, err := h.client.BatchV1().Jobs("default").Get(h.ctx, "tick-manual-x", metav1.GetOptions{}); err != nil {
		t.Errorf("the manual job: %v", err)
	}
}
