package job

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The reasons and messages kube's job controller writes.
const (
	reasonBackoffLimit  = "BackoffLimitExceeded"
	reasonDeadline      = "DeadlineExceeded"
	reasonPolicy        = "PodFailurePolicy"
	reasonCompletions   = "CompletionsReached"
	msgBackoffLimit     = "Job has reached the specified backoff limit"
	msgDeadline         = "Job was active longer than specified deadline"
	msgCompletions      = "Reached expected number of succeeded pods"
	reasonSuspended     = "JobSuspended"
	reasonResumed       = "JobResumed"
	msgSuspended        = "Job suspended"
	msgResumed          = "Job resumed"
	defaultBackoffLimit = 6
)

func condition(st *batchv1.JobStatus, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func hasTrue(st *batchv1.JobStatus, t batchv1.JobConditionType) bool {
	c := condition(st, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// finished: the job has its Complete or Failed condition.
func finished(job *batchv1.Job) bool {
	return hasTrue(&job.Status, batchv1.JobComplete) || hasTrue(&job.Status, batchv1.JobFailed)
}

// setCondition sets the condition of type t, keeping its transition time
// when its status does not change; it reports whether anything changed.
func setCondition(st *batchv1.JobStatus, t batchv1.JobConditionType, status corev1.ConditionStatus, reason, msg string, now metav1.Time) bool {
	c := condition(st, t)
	if c == nil {
		st.Conditions = append(st.Conditions, batchv1.JobCondition{Type: t, Status: status, Reason: reason, Message: msg,
			LastProbeTime: now, LastTransitionTime: now})
		return true
	}
	if c.Status == status && c.Reason == reason && c.Message == msg {
		return false
	}
	if c.Status != status {
		c.LastTransitionTime = now
	}
	c.Status, c.Reason, c.Message, c.LastProbeTime = status, reason, msg, now
	return true
}
