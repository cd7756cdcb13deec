package defaults

import (
	"math"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultBackoffLimit is how many times a Job retries before it fails.
const DefaultBackoffLimit int32 = 6

// The labels kube gave a Job's pods before the batch.kubernetes.io/ ones,
// still set for the selectors and tools that read them.
const (
	legacyJobNameLabel       = "job-name"
	legacyControllerUIDLabel = "controller-uid"
)

// Job applies SetDefaults_Job and the template's defaults. The selector a
// Job gets when it does not choose its own is JobSelector's, which needs the
// uid the API server assigns.
func Job(j *batchv1.Job) {
	jobSpec(&j.Spec)
	if labels := j.Spec.Template.Labels; labels != nil && len(j.Labels) == 0 {
		j.Labels = copyLabels(labels)
	}
	if j.Spec.ManualSelector == nil {
		j.Spec.ManualSelector = ptrTo(false)
	}
}

func jobSpec(s *batchv1.JobSpec) {
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = ptrTo[int32](1)
	}
	setInt32(&s.Parallelism, 1)
	if s.BackoffLimit == nil {
		limit := DefaultBackoffLimit
		if s.BackoffLimitPerIndex != nil {
			limit = math.MaxInt32
		}
		s.BackoffLimit = &limit
	}
	if s.CompletionMode == nil {
		s.CompletionMode = ptrTo(batchv1.NonIndexedCompletion)
	}
	if s.Suspend == nil {
		s.Suspend = ptrTo(false)
	}
	if p := s.PodFailurePolicy; p != nil {
		for i := range p.Rules {
			for j := range p.Rules[i].OnPodConditions {
				if c := &p.Rules[i].OnPodConditions[j]; c.Status == "" {
					c.Status = corev1.ConditionTrue
				}
			}
		}
	}
	if s.PodReplacementPolicy == nil {
		policy := batchv1.TerminatingOrFailed
		if s.PodFailurePolicy != nil {
			policy = batchv1.Failed
		}
		s.PodReplacementPolicy = &policy
	}
	PodTemplate(&s.Template)
}

// JobSelector is what kube's job registry does on create when the Job does
// not choose its selector (manualSelector unset or false): the template is
// labelled with the job's name and uid (the batch.kubernetes.io/ labels and
// the legacy ones) unless it already has them, and the selector matches
// the uid. A selector or labels that disagree are left for validation.
func JobSelector(j *batchv1.Job) {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	if j.Spec.Template.Labels == nil {
		j.Spec.Template.Labels = map[string]string{}
	}
	for _, k := range []string{legacyJobNameLabel, batchv1.JobNameLabel} {
		setLabel(j.Spec.Template.Labels, k, j.Name)
	}
	for _, k := range []string{legacyControllerUIDLabel, batchv1.ControllerUidLabel} {
		setLabel(j.Spec.Template.Labels, k, string(j.UID))
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &metav1.LabelSelector{}
	}
	if j.Spec.Selector.MatchLabels == nil {
		j.Spec.Selector.MatchLabels = map[string]string{}
	}
	setLabel(j.Spec.Selector.MatchLabels, batchv1.ControllerUidLabel, string(j.UID))
}

// CronJob applies SetDefaults_CronJob and the job template's pod template
// defaults (kube defaults nothing else of the job template).
func CronJob(c *batchv1.CronJob) {
	s := &c.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if s.Suspend == nil {
		s.Suspend = ptrTo(false)
	}
	setInt32(&s.SuccessfulJobsHistoryLimit, 3)
	setInt32(&s.FailedJobsHistoryLimit, 1)
	PodTemplate(&s.JobTemplate.Spec.Template)
}

func setLabel(m map[string]string, k, v string) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func copyLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
