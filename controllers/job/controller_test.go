package job

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A NonIndexed job runs parallelism pods until completions succeeded; its
// pods carry the job's labels, finalizer and controller reference; the
// counts survive the pods' deletion; SuccessCriteriaMet comes before
// Complete.
func TestJobRunsToCompletion(t *testing.T) {
	h := start(t, newJob("work", func(j *batchv1.Job) { j.Spec.Completions, j.Spec.Parallelism = ptr[int32](3), ptr[int32](2) }))
	pods := h.waitLive(2)
	p := pods[0]
	ref := metav1.GetControllerOf(&p)
	if ref == nil || ref.Kind != "Job" || ref.Name != "work" || ref.UID != "job-uid-work" || !*ref.BlockOwnerDeletion ||
		p.GenerateName != "work-" || !hasFinalizer(&p) || p.Labels[LabelJobName] != "work" ||
		p.Labels[LabelControllerUID] != "job-uid-work" || p.Labels["app"] != "batch" {
		t.Fatalf("pod %+v", p.ObjectMeta)
	}
	h.waitJob("work", "active 2", func(j *batchv1.Job) bool { return j.Status.Active == 2 && j.Status.StartTime != nil })
	h.finish(pods[0], corev1.PodSucceeded, 0)
	h.waitJob("work", "1 succeeded", func(j *batchv1.Job) bool { return j.Status.Succeeded == 1 })
	h.waitNoFinalizers()
	if err := h.client.CoreV1().Pods("default").Delete(h.ctx, pods[0].Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	pods = h.waitLive(2)
	for _, p := range pods {
		h.finish(p, corev1.PodSucceeded, 0)
	}
	job := h.waitJob("work", "Complete", func(j *batchv1.Job) bool { return condTrue(j, batchv1.JobComplete) })
	if job.Status.Succeeded != 3 || job.Status.Failed != 0 || job.Status.Active != 0 || job.Status.CompletionTime == nil {
		t.Errorf("status %+v", job.Status)
	}
	if c := job.Status.Conditions; len(c) != 2 || c[0].Type != batchv1.JobSuccessCriteriaMet || c[1].Reason != "CompletionsReached" {
		t.Errorf("conditions %+v", c)
	}
	h.waitNoFinalizers()
	h.waitEvent("Completed Job completed")
	if n := len(h.pods(false)); n != 2 {
		t.Errorf("%d pods, want the 2 finished ones kept", n)
	}
}

// An Indexed job runs one pod per index with the index in an annotation,
// a label, JOB_COMPLETION_INDEX and the hostname; a failed index is run
// again; completedIndexes lists the succeeded ones.
func TestIndexedJob(t *testing.T) {
	h := start(t, newJob("idx", func(j *batchv1.Job) {
		j.Spec.Completions, j.Spec.Parallelism = ptr[int32](3), ptr[int32](3)
		j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
	}))
	pods := h.waitLive(3)
	byIndex := map[string]corev1.Pod{}
	for _, p := range pods {
		i := p.Annotations[CompletionIndexKey]
		byIndex[i] = p
		env := p.Spec.Containers[0].Env
		if p.Labels[CompletionIndexKey] != i || p.Spec.Hostname != "idx-"+i || p.GenerateName != "idx-"+i+"-" ||
			len(env) != 1 || env[0].Name != "JOB_COMPLETION_INDEX" ||
			env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			t.Errorf("pod %s: %+v %+v", p.Name, p.ObjectMeta, p.Spec)
		}
	}
	if len(byIndex) != 3 {
		t.Fatalf("indexes %v", byIndex)
	}
	h.finish(byIndex["1"], corev1.PodSucceeded, 0)
	h.finish(byIndex["0"], corev1.PodFailed, 1)
	h.waitJob("idx", "index 1 done", func(j *batchv1.Job) bool {
		return j.Status.CompletedIndexes == "1" && j.Status.Failed == 1 && j.Status.Succeeded == 1
	})
	h.clock.Step(10 * time.Second) // the backoff after one failure
	pods = h.waitLive(2)
	for _, p := range pods {
		if p.Annotations[CompletionIndexKey] == "1" {
			t.Errorf("a completed index runs again: %s", p.Name)
		}
		h.finish(p, corev1.PodSucceeded, 0)
	}
	job := h.waitJob("idx", "Complete", func(j *batchv1.Job) bool { return condTrue(j, batchv1.JobComplete) })
	if job.Status.CompletedIndexes != "0-2" || job.Status.Succeeded != 3 {
		t.Errorf("status %+v", job.Status)
	}
}

// Failed pods are replaced after 10s, then 20s (the backoff, on the
// clock); past backoffLimit the job gets FailureTarget, then Failed once
// its pods are gone.
func TestBackoffLimit(t *testing.T) {
	h := start(t, newJob("flaky", func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr[int32](2) }))
	for n := range 3 {
		pods := h.waitLive(1)
		h.finish(pods[0], corev1.PodFailed, 1)
		h.waitJob("flaky", "a failure counted", func(j *batchv1.Job) bool { return j.Status.Failed == int32(n+1) })
		if n == 2 {
			break
		}
		delay := 10 * time.Second << n
		h.clock.Step(delay - time.Second)
		if live := h.pods(true); len(live) != 0 {
			t.Fatalf("a pod made during the backoff: %v", live[0].Name)
		}
		h.clock.Step(time.Second)
	}
	job := h.waitJob("flaky", "Failed", func(j *batchv1.Job) bool { return condTrue(j, batchv1.JobFailed) })
	c := condition(&job.Status, batchv1.JobFailureTarget)
	if c == nil || c.Reason != "BackoffLimitExceeded" || condition(&job.Status, batchv1.JobFailed).Message != "Job has reached the specified backoff limit" {
		t.Errorf("conditions %+v", job.Status.Conditions)
	}
	h.waitEvent("Warning BackoffLimitExceeded")
	h.waitNoFinalizers()
	if live := h.pods(true); len(live) != 0 {
		t.Errorf("pods still running: %d", len(live))
	}
}

// Past activeDeadlineSeconds the running pod is deleted and the job fails
// with DeadlineExceeded.
func TestActiveDeadline(t *testing.T) {
	h := start(t, newJob("slow", func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = ptr[int64](30) }))
	h.waitLive(1)
	h.waitJob("slow", "active", func(j *batchv1.Job) bool { return j.Status.Active == 1 })
	h.clock.Step(30 * time.Second)
	job := h.waitJob("slow", "Failed", func(j *batchv1.Job) bool { return condTrue(j, batchv1.JobFailed) })
	if c := condition(&job.Status, batchv1.JobFailed); c.Reason != "DeadlineExceeded" || c.Message != "Job was active longer than specified deadline" {
		t.Errorf("condition %+v", c)
	}
	if n := len(h.pods(false)); n != 0 {
		t.Errorf("%d pods left", n)
	}
}

// podFailurePolicy: a DisruptionTarget failure is ignored (not counted,
// the pod replaced at once), exit code 42 fails the job.
func TestPodFailurePolicy(t *testing.T) {
	h := start(t, newJob("policy", func(j *batchv1.Job) {
		j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
			{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
				{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}},
			{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
				Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}},
		}}
	}))
	first := h.waitLive(1)[0]
	h.finish(first, corev1.PodFailed, 137, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue})
	eventually(t, "a replacement", func() bool {
		live := h.pods(true)
		return len(live) == 1 && live[0].Name != first.Name
	})
	if j := h.job("policy"); j.Status.Failed != 0 {
		t.Errorf("an ignored failure counted: %+v", j.Status)
	}
	h.finish(h.pods(true)[0], corev1.PodFailed, 42)
	job := h.waitJob("policy", "Failed", func(j *batchv1.Job) bool { return condTrue(j, batchv1.JobFailed) })
	c := condition(&job.Status, batchv1.JobFailed)
	if c.Reason != "PodFailurePolicy" || job.Status.Failed != 1 ||
		c.Message != "Container main for pod default/policy-00002 failed with exit code 42 matching FailJob rule at index 1" {
		t.Errorf("status %+v", job.Status)
	}
	h.waitNoFinalizers()
}

// Suspending deletes the active pods (condition Suspended, start time
// cleared; they are not failures, so no backoff follows); resuming creates
// them again.
func TestSuspend(t *testing.T) {
	h := start(t, newJob("pause", func(j *batchv1.Job) { j.Spec.Parallelism, j.Spec.Completions = ptr[int32](2), ptr[int32](2) }))
	h.waitLive(2)
	h.waitJob("pause", "active", func(j *batchv1.Job) bool { return j.Status.Active == 2 })
	h.suspend("pause", true)
	job := h.waitJob("pause", "Suspended", func(j *batchv1.Job) bool { return condTrue(j, batchv1.JobSuspended) && j.Status.Active == 0 })
	if job.Status.StartTime != nil {
		t.Errorf("suspended job %+v", job.Status)
	}
	eventually(t, "no pods", func() bool { return len(h.pods(false)) == 0 })
	h.waitEvent("Suspended Job suspended")
	h.suspend("pause", false)
	h.waitLive(2)
	job = h.waitJob("pause", "resumed", func(j *batchv1.Job) bool {
		c := condition(&j.Status, batchv1.JobSuspended)
		return c != nil && c.Status == corev1.ConditionFalse && c.Reason == "JobResumed" && j.Status.StartTime != nil
	})
	if job.Status.Failed != 0 {
		t.Errorf("the pods the suspension deleted counted as failures: %+v", job.Status)
	}
}

// A finished job with ttlSecondsAfterFinished is deleted that long after
// it finished, not before.
func TestTTLAfterFinished(t *testing.T) {
	h := start(t, newJob("brief", func(j *batchv1.Job) { j.Spec.TTLSecondsAfterFinished = ptr[int32](100) }))
	h.finish(h.waitLive(1)[0], corev1.PodSucceeded, 0)
	h.waitJob("brief", "Complete", func(j *batchv1.Job) bool { return condTrue(j, batchv1.JobComplete) })
	h.clock.Step(99 * time.Second)
	if _, err := h.client.BatchV1().Jobs("default").Get(h.ctx, "brief", metav1.GetOptions{}); err != nil {
		t.Fatalf("deleted before its TTL: %v", err)
	}
	// The controller sets its timer when its cache has the finished job,
	// which may be after the first step: step on until it fires.
	eventually(t, "the job deleted", func() bool {
		h.clock.Step(time.Second)
		_, err := h.client.BatchV1().Jobs("default").Get(h.ctx, "brief", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

// A pod with the tracking finalizer whose job is gone, or that has no
// controller any more, loses the finalizer; a pod of a live job keeps it.
func TestOrphanPodLosesFinalizer(t *testing.T) {
	t0 := true
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "orphan", UID: "uid-orphan",
		Finalizers:      []string{TrackingFinalizer},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "gone", UID: "gone-uid", Controller: &t0}}},
		Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}
	// orphaned: its job was deleted with --cascade=orphan, which removed
	// the owner reference.
	orphaned := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "orphaned", UID: "uid-orphaned",
		Finalizers: []string{TrackingFinalizer}}}
	h := start(t, orphan, orphaned, newJob("alive", nil))
	h.waitLive(2)
	for _, name := range []string{"orphan", "orphaned"} {
		eventually(t, name+"'s finalizer removed", func() bool {
			p, err := h.client.CoreV1().Pods("default").Get(h.ctx, name, metav1.GetOptions{})
			return err == nil && !hasFinalizer(p)
		})
	}
	for _, p := range h.pods(true) {
		if p.Name != "orphaned" && !hasFinalizer(&p) {
			t.Errorf("the live job's pod lost its finalizer")
		}
	}
}

// A running pod a user deletes counts as failed at once (the job has no
// podFailurePolicy), loses its finalizer so it can go, and is replaced
// after the backoff.
func TestDeletedPodCountsAsFailed(t *testing.T) {
	h := start(t, newJob("del", nil))
	pod := h.waitLive(1)[0]
	h.waitJob("del", "active", func(j *batchv1.Job) bool { return j.Status.Active == 1 })
	if err := h.client.CoreV1().Pods("default").Delete(h.ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitJob("del", "1 failed", func(j *batchv1.Job) bool { return j.Status.Failed == 1 })
	eventually(t, "the pod gone", func() bool {
		_, err := h.client.CoreV1().Pods("default").Get(h.ctx, pod.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	h.clock.Step(10 * time.Second)
	h.waitLive(1)
}
