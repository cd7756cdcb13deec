package cronjob

import (
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var epoch = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func newCronJob(name, spec string, mutate func(*batchv1.CronJob)) *batchv1.CronJob {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("cj-uid-" + name),
			CreationTimestamp: metav1.NewTime(epoch)},
		Spec: batchv1.CronJobSpec{Schedule: spec, TimeZone: ptr("UTC"), ConcurrencyPolicy: batchv1.AllowConcurrent,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "nightly"}, Annotations: map[string]string{"note": "x"}},
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "main", Image: "busybox"}}}}}}},
	}
	if mutate != nil {
		mutate(cj)
	}
	return cj
}

func plan1(t *testing.T, cj *batchv1.CronJob, jobs []*batchv1.Job, now time.Time) plan {
	t.Helper()
	sched, err := parseSchedule(cj)
	return decide(cj, jobs, nil, sched, err, now)
}

func hasEvent(p plan, reason string) bool {
	for _, e := range p.events {
		if e.reason == reason {
			return true
		}
	}
	return false
}

func activeRef(name string) corev1.ObjectReference {
	return corev1.ObjectReference{Kind: "Job", APIVersion: "batch/v1", Namespace: "default", Name: name, UID: types.UID("uid-" + name)}
}

func runningJob(cj *batchv1.CronJob, name string) *batchv1.Job {
	t := true
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name),
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: &t}}}}
}

// The run is named <cronjob>-<minutes since the epoch>, carries the
// template and the scheduled time in the cronjob's zone, and is
// controlled by the cronjob; nothing runs before the first start time.
func TestScheduleNamesAndTimeZone(t *testing.T) {
	cj := newCronJob("nightly", "0 9 * * *", func(cj *batchv1.CronJob) {
		cj.Spec.TimeZone = ptr("Asia/Tokyo")
		cj.CreationTimestamp = metav1.NewTime(time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC))
	})
	if p := plan1(t, cj, nil, time.Date(2026, 12, 5, 23, 59, 0, 0, time.UTC)); p.create != nil || p.requeue != time.Minute+nextScheduleDelta {
		t.Fatalf("before 09:00 Tokyo: create %v, requeue %v", p.create, p.requeue)
	}
	p := plan1(t, cj, nil, time.Date(2026, 12, 6, 0, 0, 30, 0, time.UTC))
	job := p.create
	if job == nil {
		t.Fatal("no run at 09:00 Tokyo (00:00 UTC)")
	}
	wantName := "nightly-" + strconv.FormatInt(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC).Unix()/60, 10)
	ref := metav1.GetControllerOf(job)
	if job.Name != wantName || job.Annotations[ScheduledTimestampAnnotation] != "2026-12-06T09:00:00+09:00" ||
		job.Annotations["note"] != "x" || job.Labels["app"] != "nightly" || ref == nil || ref.Kind != "CronJob" ||
		ref.UID != cj.UID || !*ref.BlockOwnerDeletion || job.Spec.Template.Spec.Containers[0].Image != "busybox" {
		t.Errorf("job %+v", job.ObjectMeta)
	}
	if p.requeue != 24*time.Hour-30*time.Second+nextScheduleDelta {
		t.Errorf("requeue %v", p.requeue)
	}
}

// Forbid skips a run while one is active; Replace deletes the active one
// and starts; Allow starts beside it.
func TestConcurrencyPolicy(t *testing.T) {
	now := epoch.Add(5*time.Minute + time.Second)
	for policy, want := range map[batchv1.ConcurrencyPolicy]struct {
		create, replace bool
		active          int
	}{batchv1.ForbidConcurrent: {false, false, 1}, batchv1.ReplaceConcurrent: {true, true, 0}, batchv1.AllowConcurrent: {true, false, 1}} {
		cj := newCronJob("c", "*/5 * * * *", func(cj *batchv1.CronJob) {
			cj.Spec.ConcurrencyPolicy = policy
			cj.Status.Active = []corev1.ObjectReference{activeRef("c-old")}
		})
		p := plan1(t, cj, []*batchv1.Job{runningJob(cj, "c-old")}, now)
		if (p.create != nil) != want.create || (len(p.replace) == 1) != want.replace || len(p.status.Active) != want.active {
			t.Errorf("%s: create %v replace %v active %v", policy, p.create != nil, p.replace, p.status.Active)
		}
		if policy == batchv1.ForbidConcurrent && !hasEvent(p, "JobAlreadyActive") {
			t.Errorf("Forbid: events %v", p.events)
		}
	}
}

// A start time older than startingDeadlineSeconds is not run; a suspended
// cronjob runs nothing; an invalid time zone is an event, not a run.
func TestDeadlineSuspendAndBadZone(t *testing.T) {
	now := epoch.Add(7 * time.Minute)
	late := newCronJob("late", "*/5 * * * *", func(cj *batchv1.CronJob) { cj.Spec.StartingDeadlineSeconds = ptr[int64](60) })
	if p := plan1(t, late, nil, now); p.create != nil {
		t.Errorf("ran the 08:05 start at 08:07 with a 60s deadline")
	}
	inTime := newCronJob("intime", "*/5 * * * *", func(cj *batchv1.CronJob) { cj.Spec.StartingDeadlineSeconds = ptr[int64](200) })
	if p := plan1(t, inTime, nil, now); p.create == nil || p.create.Annotations[ScheduledTimestampAnnotation] != "2026-12-06T08:05:00Z" {
		t.Errorf("the 08:05 start within a 200s deadline: %+v", p.create)
	}
	paused := newCronJob("paused", "*/5 * * * *", func(cj *batchv1.CronJob) { cj.Spec.Suspend = ptr(true) })
	if p := plan1(t, paused, nil, now); p.create != nil {
		t.Errorf("a suspended cronjob ran")
	}
	bad := newCronJob("bad", "*/5 * * * *", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr("Mars/Olympus") })
	if p := plan1(t, bad, nil, now); p.create != nil || !hasEvent(p, "InvalidSchedule") {
		t.Errorf("bad zone: %+v %v", p.create, p.events)
	}
	tz := newCronJob("tz", "TZ=UTC */5 * * * *", nil)
	if p := plan1(t, tz, nil, now); p.create != nil || !hasEvent(p, "InvalidSchedule") {
		t.Errorf("TZ in schedule: %+v %v", p.create, p.events)
	}
}

// More than 100 missed start times: a warning, and only the most recent
// runs.
func TestTooManyMissed(t *testing.T) {
	cj := newCronJob("busy", "* * * * *", nil)
	now := epoch.Add(72*time.Hour + 30*time.Second)
	p := plan1(t, cj, nil, now)
	if !hasEvent(p, "TooManyMissedTimes") || p.create == nil ||
		p.create.Annotations[ScheduledTimestampAnnotation] != now.Truncate(time.Minute).Format(time.RFC3339) {
		t.Errorf("events %v, job %+v", p.events, p.create)
	}
}

// Finished jobs leave active (a Complete one sets lastSuccessfulTime);
// the oldest finished jobs past the history limits are deleted; a manual
// job is never active.
func TestActiveAndHistory(t *testing.T) {
	cj := newCronJob("h", "*/5 * * * *", func(cj *batchv1.CronJob) {
		cj.Spec.SuccessfulJobsHistoryLimit, cj.Spec.FailedJobsHistoryLimit = ptr[int32](1), ptr[int32](0)
		cj.Status.Active = []corev1.ObjectReference{activeRef("h-3"), activeRef("h-gone"), activeRef("h-run")}
		cj.Status.LastScheduleTime = ptr(metav1.NewTime(epoch.Add(time.Hour)))
	})
	done := func(name string, cond batchv1.JobConditionType, start time.Duration) *batchv1.Job {
		j := runningJob(cj, name)
		j.Status.StartTime = ptr(metav1.NewTime(epoch.Add(start)))
		j.Status.CompletionTime = ptr(metav1.NewTime(epoch.Add(start + time.Minute)))
		j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue}}
		return j
	}
	man := runningJob(cj, "h-manual")
	man.Annotations = map[string]string{InstantiateAnnotation: "manual"}
	jobs := []*batchv1.Job{done("h-1", batchv1.JobComplete, 0), done("h-2", batchv1.JobComplete, time.Minute),
		done("h-3", batchv1.JobComplete, 2*time.Minute), done("h-f", batchv1.JobFailed, 0), runningJob(cj, "h-run"), man}
	sched, _ := parseSchedule(cj)
	p := decide(cj, jobs, map[types.UID]bool{"uid-h-gone": true}, sched, nil, epoch.Add(time.Hour+time.Minute))
	if len(p.status.Active) != 1 || p.status.Active[0].Name != "h-run" {
		t.Errorf("active %v", p.status.Active)
	}
	if lst := p.status.LastSuccessfulTime; lst == nil || !lst.Time.Equal(epoch.Add(3*time.Minute)) {
		t.Errorf("lastSuccessfulTime %v", lst)
	}
	var deleted []string
	for _, j := range p.history {
		deleted = append(deleted, j.Name)
	}
	if strings.Join(deleted, ",") != "h-1,h-2,h-f" {
		t.Errorf("history deletes %v", deleted)
	}
	if !hasEvent(p, "SawCompletedJob") || !hasEvent(p, "MissingJob") {
		t.Errorf("events %v", p.events)
	}
}
