package job

import (
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// event is one event the sync records on the job.
type event struct{ kind, reason, message string }

// plan is what one sync does: the pods to delete, the indexes to create
// pods for (noIndex for a NonIndexed job), the status to write, the events
// and when to look again (0: only on a change).
type plan struct {
	status  batchv1.JobStatus
	del     []*corev1.Pod
	create  []int
	events  []event
	requeue time.Duration
}

// decide computes the plan for a job whose finished pods are counted: it
// fails or completes it (first FailureTarget / SuccessCriteriaMet while
// its pods wind down, then Failed / Complete), suspends or resumes it, or
// keeps its active pods at the wanted number. settled is false while the
// controller's last creations and deletions are not in the cache yet:
// then it neither creates nor deletes to keep the number, nor declares the
// job Failed or Complete (a pod it made may not be in the cache yet);
// backoff is the time left before pods may be created again.
func decide(job *batchv1.Job, pods []*corev1.Pod, now time.Time, backoff time.Duration, settled bool) plan {
	p := plan{status: *job.Status.DeepCopy()}
	st, mnow := &p.status, metav1.NewTime(now)
	var live, ending []*corev1.Pod
	for _, pod := range pods {
		if active(pod) {
			live = append(live, pod)
		} else if terminating(pod) {
			ending = append(ending, pod)
		}
	}
	nTerminating := int32(len(ending))
	if st.StartTime == nil && !suspended(job) {
		st.StartTime = &mnow
	}
	if p.finish(job, live, now) {
		p.del = live
		if settled {
			p.settle(job, nTerminating, mnow)
		}
	} else if suspended(job) {
		p.del = live
		p.suspend(mnow)
	} else {
		p.resume(job, mnow)
		if settled {
			p.manage(job, live, held(job, ending), backoff)
		}
		p.deadlineTimer(job, now)
	}
	p.counts(live, nTerminating)
	return p
}

func suspended(job *batchv1.Job) bool { return job.Spec.Suspend != nil && *job.Spec.Suspend }

// finish reports whether the job is done: a FailureTarget or
// SuccessCriteriaMet it has, or one it gets now (the backoff limit, the
// active deadline, the completions reached).
func (p *plan) finish(job *batchv1.Job, live []*corev1.Pod, now time.Time) bool {
	st, mnow := &p.status, metav1.NewTime(now)
	if hasTrue(st, batchv1.JobFailureTarget) || hasTrue(st, batchv1.JobSuccessCriteriaMet) {
		return true
	}
	limit := int32(defaultBackoffLimit)
	if job.Spec.BackoffLimit != nil {
		limit = *job.Spec.BackoffLimit
	}
	switch {
	case st.Failed > limit || restartsPastLimit(job, live, limit):
		p.fail(reasonBackoffLimit, msgBackoffLimit, mnow)
	case deadlinePassed(job, st, now):
		p.fail(reasonDeadline, msgDeadline, mnow)
	case succeeded(job, st, len(live)):
		setCondition(st, batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, reasonCompletions, msgCompletions, mnow)
	default:
		return false
	}
	return true
}

func (p *plan) fail(reason, msg string, now metav1.Time) {
	setCondition(&p.status, batchv1.JobFailureTarget, corev1.ConditionTrue, reason, msg, now)
	p.events = append(p.events, event{corev1.EventTypeWarning, reason, msg})
}

// restartsPastLimit: with restartPolicy OnFailure the kubelet restarts
// failed containers in place, and kube counts those restarts (of pending
// and running pods) against backoffLimit: at least the limit (any, for a
// limit of 0) fails the job.
func restartsPastLimit(job *batchv1.Job, live []*corev1.Pod, limit int32) bool {
	if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	var restarts int32
	for _, pod := range live {
		if pod.Status.Phase != corev1.PodRunning && pod.Status.Phase != corev1.PodPending {
			continue
		}
		for _, st := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
			restarts += st.RestartCount
		}
	}
	if limit == 0 {
		return restarts > 0
	}
	return restarts >= limit
}

func deadlinePassed(job *batchv1.Job, st *batchv1.JobStatus, now time.Time) bool {
	ads := job.Spec.ActiveDeadlineSeconds
	return ads != nil && st.StartTime != nil && !now.Before(st.StartTime.Add(time.Duration(*ads)*time.Second))
}

// succeeded: the completions are reached (every index, for an Indexed
// job); a job without completions succeeds once a pod has and none runs.
func succeeded(job *batchv1.Job, st *batchv1.JobStatus, nActive int) bool {
	c := job.Spec.Completions
	switch {
	case c == nil:
		return st.Succeeded > 0 && nActive == 0
	case indexed(job):
		return len(parseIndexes(st.CompletedIndexes, int(*c))) >= int(*c)
	default:
		return st.Succeeded >= *c
	}
}

func indexed(job *batchv1.Job) bool {
	return job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion
}

// settle turns FailureTarget into Failed and SuccessCriteriaMet into
// Complete (with completionTime) once no pod of the job runs any more.
func (p *plan) settle(job *batchv1.Job, nTerminating int32, now metav1.Time) {
	st := &p.status
	if len(p.del) > 0 || nTerminating > 0 {
		return
	}
	if c := condition(st, batchv1.JobFailureTarget); c != nil && c.Status == corev1.ConditionTrue {
		setCondition(st, batchv1.JobFailed, corev1.ConditionTrue, c.Reason, c.Message, now)
		return
	}
	if setCondition(st, batchv1.JobComplete, corev1.ConditionTrue, reasonCompletions, msgCompletions, now) {
		st.CompletionTime = &now
		p.events = append(p.events, event{corev1.EventTypeNormal, "Completed", "Job completed"})
	}
}

// suspend: condition Suspended, and the start time cleared so that the
// active deadline counts from the resume, as kube.
func (p *plan) suspend(now metav1.Time) {
	if setCondition(&p.status, batchv1.JobSuspended, corev1.ConditionTrue, reasonSuspended, msgSuspended, now) {
		p.events = append(p.events, event{corev1.EventTypeNormal, "Suspended", msgSuspended})
	}
	p.status.StartTime = nil
}

func (p *plan) resume(job *batchv1.Job, now metav1.Time) {
	if hasTrue(&p.status, batchv1.JobSuspended) {
		setCondition(&p.status, batchv1.JobSuspended, corev1.ConditionFalse, reasonResumed, msgResumed, now)
		p.events = append(p.events, event{corev1.EventTypeNormal, "Resumed", msgResumed})
		p.status.StartTime = &now
	}
}

func (p *plan) deadlineTimer(job *batchv1.Job, now time.Time) {
	if ads := job.Spec.ActiveDeadlineSeconds; ads != nil && p.status.StartTime != nil {
		p.after(p.status.StartTime.Add(time.Duration(*ads) * time.Second).Sub(now))
	}
}

func (p *plan) after(d time.Duration) {
	if d > 0 && (p.requeue == 0 || d < p.requeue) {
		p.requeue = d
	}
}

// counts fills active, ready and terminating, counting the pods this plan
// creates and deletes.
func (p *plan) counts(live []*corev1.Pod, nTerminating int32) {
	deleted := map[*corev1.Pod]bool{}
	for _, pod := range p.del {
		deleted[pod] = true
	}
	var nActive, nReady int32
	for _, pod := range live {
		if !deleted[pod] {
			nActive++
			if ready(pod) {
				nReady++
			}
		}
	}
	p.status.Active = nActive + int32(len(p.create))
	p.status.Ready = &nReady
	t := nTerminating + int32(len(p.del))
	p.status.Terminating = &t
	if p.status.UncountedTerminatedPods == nil {
		p.status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
}

// manage keeps the active pods at the wanted number: NonIndexed, at
// min(parallelism, completions left) (for a job without completions, a
// work queue, no new ones once a pod succeeded: the running ones finish);
// Indexed, one pod for each index not completed, at most parallelism at
// once. Extra pods go, the least advanced first. held terminating pods
// still take their place. No pod is created while the backoff lasts.
func (p *plan) manage(job *batchv1.Job, live, held []*corev1.Pod, backoff time.Duration) {
	parallelism := int32(1)
	if job.Spec.Parallelism != nil {
		parallelism = *job.Spec.Parallelism
	}
	var want []int
	if indexed(job) && job.Spec.Completions != nil {
		var extra []*corev1.Pod
		extra, want = indexedWant(job, &p.status, live, held, parallelism)
		p.del = append(p.del, extra...)
	} else {
		p.del, want = nonIndexedWant(job, &p.status, live, int32(len(held)), parallelism)
	}
	if len(want) > 0 && backoff > 0 {
		p.after(backoff)
		return
	}
	p.create = want
}

// held are the terminating pods that keep their place until they are
// Failed: all of them under podReplacementPolicy Failed (the default with
// a podFailurePolicy), none under TerminatingOrFailed.
func held(job *batchv1.Job, ending []*corev1.Pod) []*corev1.Pod {
	policy := job.Spec.PodReplacementPolicy
	if (policy != nil && *policy == batchv1.Failed) || (policy == nil && job.Spec.PodFailurePolicy != nil) {
		return ending
	}
	return nil
}

func nonIndexedWant(job *batchv1.Job, st *batchv1.JobStatus, live []*corev1.Pod, nHeld, parallelism int32) ([]*corev1.Pod, []int) {
	want := parallelism
	if c := job.Spec.Completions; c != nil {
		want = min(want, max(*c-st.Succeeded, 0))
	} else if st.Succeeded > 0 {
		want = min(want, int32(len(live))) // a work queue: no new pods, the running ones finish
	}
	n := int32(len(live))
	if n > want {
		sorted := append([]*corev1.Pod(nil), live...)
		sort.SliceStable(sorted, func(i, j int) bool { return lessAdvanced(sorted[i], sorted[j]) })
		return sorted[:n-want], nil
	}
	create := make([]int, max(want-n-nHeld, 0))
	for i := range create {
		create[i] = noIndex
	}
	return nil, create
}

// indexedWant: pods without a valid index, of a completed index, or a
// second one of an index go; indexes without a pod (nor a held one) get
// one, lowest first.
func indexedWant(job *batchv1.Job, st *batchv1.JobStatus, live, held []*corev1.Pod, parallelism int32) ([]*corev1.Pod, []int) {
	completions := int(*job.Spec.Completions)
	done := parseIndexes(st.CompletedIndexes, completions)
	running := map[int]bool{}
	for _, pod := range held {
		if i := podIndex(pod, completions); i != noIndex {
			running[i] = true
		}
	}
	var extra []*corev1.Pod
	for _, pod := range live {
		i := podIndex(pod, completions)
		if _, completed := done[i]; i == noIndex || completed || running[i] {
			extra = append(extra, pod)
			continue
		}
		running[i] = true
	}
	room := int(parallelism) - len(running)
	var create []int
	for i := 0; i < completions && len(create) < room; i++ {
		if _, completed := done[i]; !completed && !running[i] {
			create = append(create, i)
		}
	}
	return extra, create
}

// lessAdvanced orders pods kube's way for deletion, roughly: unscheduled
// before scheduled, pending before running, not ready before ready, newer
// before older.
func lessAdvanced(a, b *corev1.Pod) bool {
	if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if (a.Status.Phase == corev1.PodPending) != (b.Status.Phase == corev1.PodPending) {
		return a.Status.Phase == corev1.PodPending
	}
	if ready(a) != ready(b) {
		return !ready(a)
	}
	return b.CreationTimestamp.Before(&a.CreationTimestamp)
}
