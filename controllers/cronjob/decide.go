package cronjob

import (
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The annotations kube's cronjob controller and kubectl use.
const (
	ScheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"
	InstantiateAnnotation        = "cronjob.kubernetes.io/instantiate"
	// nextScheduleDelta is added to the wait for the next start time, as
	// kube adds it, so the sync runs just after it.
	nextScheduleDelta = 100 * time.Millisecond
)

type event struct{ kind, reason, message string }

// plan is what one sync of a cronjob does.
type plan struct {
	status  batchv1.CronJobStatus
	replace []corev1.ObjectReference // active jobs deleted for Replace
	create  *batchv1.Job
	history []*batchv1.Job // finished jobs past the history limits
	events  []event
	requeue time.Duration
}

// decide reconciles the cronjob's active list with its jobs, picks the
// finished jobs past the history limits, and starts the most recent
// missed run if the schedule, suspend, the starting deadline and the
// concurrency policy allow. missing are active jobs the server does not
// have.
func decide(cj *batchv1.CronJob, jobs []*batchv1.Job, missing map[types.UID]bool, sched schedule, schedErr error, now time.Time) plan {
	p := plan{status: *cj.Status.DeepCopy()}
	p.reconcileActive(jobs, missing)
	p.history = pastLimits(cj, jobs)
	if cj.DeletionTimestamp != nil {
		return p
	}
	if schedErr != nil {
		p.events = append(p.events, event{corev1.EventTypeWarning, "InvalidSchedule", schedErr.Error()})
		return p
	}
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		return p
	}
	p.schedule(cj, sched, now)
	return p
}

func manual(job *batchv1.Job) bool { return job.Annotations[InstantiateAnnotation] == "manual" }

// finished returns the job's Complete or Failed condition, if it has one.
func finished(job *batchv1.Job) (batchv1.JobConditionType, bool) {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type, true
		}
	}
	return "", false
}

// reconcileActive drops finished and missing jobs from status.active and
// keeps lastSuccessfulTime. Jobs made by hand from the cronjob (kubectl
// create job --from=cronjob/x) are not scheduled runs: never in active.
func (p *plan) reconcileActive(jobs []*batchv1.Job, missing map[types.UID]bool) {
	byUID := map[types.UID]*batchv1.Job{}
	for _, j := range jobs {
		byUID[j.UID] = j
	}
	var keep []corev1.ObjectReference
	for _, ref := range p.status.Active {
		j, ok := byUID[ref.UID]
		switch {
		case !ok && missing[ref.UID]:
			p.events = append(p.events, event{corev1.EventTypeNormal, "MissingJob", "Active job went missing: " + ref.Name})
			continue
		case !ok:
		case manual(j):
			continue
		default:
			if cond, done := finished(j); done {
				p.events = append(p.events, event{corev1.EventTypeNormal, "SawCompletedJob",
					fmt.Sprintf("Saw completed job: %s, condition: %s", j.Name, cond)})
				p.succeededAt(j, cond)
				continue
			}
		}
		keep = append(keep, ref)
	}
	p.status.Active = keep
}

func (p *plan) succeededAt(j *batchv1.Job, cond batchv1.JobConditionType) {
	if cond != batchv1.JobComplete || j.Status.CompletionTime == nil {
		return
	}
	if last := p.status.LastSuccessfulTime; last == nil || last.Before(j.Status.CompletionTime) {
		t := *j.Status.CompletionTime
		p.status.LastSuccessfulTime = &t
	}
}

// pastLimits are the oldest finished jobs beyond successfulJobsHistoryLimit
// and failedJobsHistoryLimit (no limit when unset), oldest first by start
// time (then name), as kube.
func pastLimits(cj *batchv1.CronJob, jobs []*batchv1.Job) []*batchv1.Job {
	var ok, failed []*batchv1.Job
	for _, j := range jobs {
		switch cond, done := finished(j); {
		case !done || j.DeletionTimestamp != nil:
		case cond == batchv1.JobComplete:
			ok = append(ok, j)
		default:
			failed = append(failed, j)
		}
	}
	return append(oldest(ok, cj.Spec.SuccessfulJobsHistoryLimit), oldest(failed, cj.Spec.FailedJobsHistoryLimit)...)
}

func oldest(jobs []*batchv1.Job, limit *int32) []*batchv1.Job {
	if limit == nil || len(jobs) <= int(*limit) {
		return nil
	}
	sort.Slice(jobs, func(i, k int) bool {
		a, b := startOf(jobs[i]), startOf(jobs[k])
		return a.Before(b) || (a.Equal(b) && jobs[i].Name < jobs[k].Name)
	})
	return jobs[:len(jobs)-int(*limit)]
}

func startOf(j *batchv1.Job) time.Time {
	if j.Status.StartTime != nil {
		return j.Status.StartTime.Time
	}
	return j.CreationTimestamp.Time
}

// schedule starts the most recent start time not run yet, within the
// starting deadline, unless the concurrency policy forbids it, and sets
// the wait for the next one.
func (p *plan) schedule(cj *batchv1.CronJob, sched schedule, now time.Time) {
	if next := sched.next(now); !next.IsZero() {
		p.requeue = next.Sub(now) + nextScheduleDelta
	}
	earliest := cj.CreationTimestamp.Time
	if p.status.LastScheduleTime != nil {
		earliest = p.status.LastScheduleTime.Time
	}
	if sds := cj.Spec.StartingDeadlineSeconds; sds != nil {
		if deadline := now.Add(-time.Duration(*sds) * time.Second); deadline.After(earliest) {
			earliest = deadline
		}
	}
	scheduled, due, tooMany := sched.mostRecent(earliest, now)
	if tooMany {
		p.events = append(p.events, event{corev1.EventTypeWarning, "TooManyMissedTimes",
			fmt.Sprintf("too many missed start times: > %d. Set or decrease .spec.startingDeadlineSeconds or check clock skew", tooManyMissed)})
	}
	name := jobName(cj, scheduled)
	if !due || activeNamed(p.status.Active, name) {
		return
	}
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.ForbidConcurrent:
		if len(p.status.Active) > 0 {
			p.events = append(p.events, event{corev1.EventTypeNormal, "JobAlreadyActive",
				"Not starting job because prior execution is running and concurrency policy is Forbid"})
			return
		}
	case batchv1.ReplaceConcurrent:
		p.replace, p.status.Active = p.status.Active, nil
	}
	p.create = newJob(cj, scheduled, sched.loc)
}

func activeNamed(active []corev1.ObjectReference, name string) bool {
	for _, ref := range active {
		if ref.Name == name {
			return true
		}
	}
	return false
}

// jobName is kube's: <cronjob>-<scheduled time in minutes since the epoch>.
func jobName(cj *batchv1.CronJob, scheduled time.Time) string {
	return fmt.Sprintf("%s-%d", cj.Name, scheduled.Unix()/60)
}

// newJob is the run for the scheduled time: the job template's labels,
// annotations (plus the scheduled timestamp, RFC 3339 in the cronjob's
// zone) and spec, controlled by the cronjob.
func newJob(cj *batchv1.CronJob, scheduled time.Time, loc *time.Location) *batchv1.Job {
	tmpl := cj.Spec.JobTemplate.DeepCopy()
	annotations := tmpl.Annotations
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[ScheduledTimestampAnnotation] = scheduled.In(loc).Format(time.RFC3339)
	t := true
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: cj.Namespace, Name: jobName(cj, scheduled),
			Labels: tmpl.Labels, Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID,
				Controller: &t, BlockOwnerDeletion: &t}}},
		Spec: tmpl.Spec,
	}
}
