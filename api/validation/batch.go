package validation

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxCronJobNameLength leaves room for the 11-character suffix of the
// jobs a CronJob makes, within a 63-character label value.
const maxCronJobNameLength = 52

// Job validates a Job as kube's ValidateJob: the spec, and a selector
// that selects the job's own uid unless the job chose it (manualSelector).
func Job(j *batchv1.Job) field.ErrorList {
	errs := ObjectMeta(&j.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	errs = append(errs, generatedSelector(j)...)
	return append(errs, jobSpec(&j.Spec, specPath, true)...)
}

func generatedSelector(j *batchv1.Job) field.ErrorList {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector || j.Spec.Selector == nil {
		return nil
	}
	s, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
	if err != nil || s.Matches(labels.Set{batchv1.ControllerUidLabel: string(j.UID)}) {
		return nil
	}
	return field.ErrorList{field.Invalid(specPath.Child("selector"), j.Spec.Selector, "`selector` not auto-generated")}
}

// jobSpec is kube's validateJobSpec; a Job (not a CronJob's template)
// also needs a selector that matches its template.
func jobSpec(s *batchv1.JobSpec, fld *field.Path, needSelector bool) field.ErrorList {
	var errs field.ErrorList
	for _, f := range []struct {
		v    *int32
		name string
	}{{s.Parallelism, "parallelism"}, {s.Completions, "completions"}, {s.BackoffLimit, "backoffLimit"},
		{s.TTLSecondsAfterFinished, "ttlSecondsAfterFinished"}} {
		if f.v != nil {
			errs = append(errs, nonNegative(int64(*f.v), fld.Child(f.name))...)
		}
	}
	if s.ActiveDeadlineSeconds != nil {
		errs = append(errs, nonNegative(*s.ActiveDeadlineSeconds, fld.Child("activeDeadlineSeconds"))...)
	}
	errs = append(errs, completionMode(s, fld)...)
	if needSelector {
		errs = append(errs, selectorRequired(s.Selector, "", fld.Child("selector"))...)
		errs = append(errs, selectorMatchesTemplate(s.Selector, &s.Template, fld.Child("template", "metadata", "labels"))...)
	}
	errs = append(errs, podTemplate(&s.Template, fld.Child("template"))...)
	if rp := s.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever {
		errs = append(errs, field.NotSupported(fld.Child("template", "spec", "restartPolicy"), rp,
			[]corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	}
	return errs
}

func completionMode(s *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	if s.CompletionMode == nil {
		return nil
	}
	errs := optionalEnum(*s.CompletionMode, fld.Child("completionMode"), batchv1.NonIndexedCompletion, batchv1.IndexedCompletion)
	if *s.CompletionMode == batchv1.IndexedCompletion && s.Completions == nil {
		errs = append(errs, field.Required(fld.Child("completions"), "when completion mode is Indexed"))
	}
	return errs
}

// JobUpdate validates an update of a Job or its status (whose counts may
// not be negative): the selector, completion mode
// and (but for an Indexed job's elastic scaling) completions stay; the pod
// template stays too, except that a suspended job that never started may
// change where its pods run (kube's mutable scheduling directives).
func JobUpdate(j, old *batchv1.Job) field.ErrorList {
	errs := ObjectMetaUpdate(&j.ObjectMeta, &old.ObjectMeta)
	errs = append(errs, Job(j)...)
	s, o := &j.Spec, &old.Spec
	errs = append(errs, immutable(s.Selector, o.Selector, specPath.Child("selector"))...)
	errs = append(errs, immutable(s.CompletionMode, o.CompletionMode, specPath.Child("completionMode"))...)
	errs = append(errs, jobStatus(&j.Status, statusPath)...)
	if !elasticIndexed(s, o) {
		errs = append(errs, immutable(s.Completions, o.Completions, specPath.Child("completions"))...)
	}
	tmpl, oldTmpl := s.Template.DeepCopy(), o.Template.DeepCopy()
	if suspendedNeverStarted(old) {
		for _, t := range []*corev1.PodTemplateSpec{tmpl, oldTmpl} {
			t.Labels, t.Annotations, t.Spec.NodeSelector, t.Spec.Affinity = nil, nil, nil, nil
			t.Spec.Tolerations, t.Spec.SchedulingGates = nil, nil
		}
	}
	return append(errs, immutable(tmpl, oldTmpl, specPath.Child("template"))...)
}

// elasticIndexed: an Indexed job may change completions together with
// parallelism, keeping them equal.
func elasticIndexed(s, o *batchv1.JobSpec) bool {
	indexed := s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion
	return indexed && s.Completions != nil && s.Parallelism != nil && *s.Completions == *s.Parallelism
}

func suspendedNeverStarted(j *batchv1.Job) bool {
	return j.Spec.Suspend != nil && *j.Spec.Suspend && j.Status.StartTime == nil
}

// CronJob validates a CronJob as kube's ValidateCronJobCreate.
func CronJob(c *batchv1.CronJob) field.ErrorList {
	errs := ObjectMeta(&c.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	if len(c.Name) > maxCronJobNameLength {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), c.Name, "must be no more than 52 characters"))
	}
	return append(errs, cronJobSpec(&c.Spec, specPath)...)
}

func cronJobSpec(s *batchv1.CronJobSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, schedule(s.Schedule, s.TimeZone, fld.Child("schedule"))...)
	errs = append(errs, timeZone(s.TimeZone, fld.Child("timeZone"))...)
	errs = append(errs, enum(s.ConcurrencyPolicy, fld.Child("concurrencyPolicy"),
		batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent)...)
	for _, f := range []struct {
		v    *int32
		name string
	}{{s.SuccessfulJobsHistoryLimit, "successfulJobsHistoryLimit"}, {s.FailedJobsHistoryLimit, "failedJobsHistoryLimit"}} {
		if f.v != nil {
			errs = append(errs, nonNegative(int64(*f.v), fld.Child(f.name))...)
		}
	}
	if s.StartingDeadlineSeconds != nil {
		errs = append(errs, nonNegative(*s.StartingDeadlineSeconds, fld.Child("startingDeadlineSeconds"))...)
	}
	return append(errs, jobTemplate(&s.JobTemplate, fld.Child("jobTemplate"))...)
}

// CronJobUpdate validates an update of a CronJob; the name's length is
// not checked again (kube allows updating older, longer-named CronJobs).
func CronJobUpdate(c, old *batchv1.CronJob) field.ErrorList {
	return append(ObjectMetaUpdate(&c.ObjectMeta, &old.ObjectMeta), cronJobSpec(&c.Spec, specPath)...)
}

// schedule parses a standard five-field cron schedule (or a @descriptor)
// as kube does; time zones belong in spec.timeZone.
func schedule(sched string, tz *string, fld *field.Path) field.ErrorList {
	if sched == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	var errs field.ErrorList
	if _, err := cron.ParseStandard(sched); err != nil {
		errs = append(errs, field.Invalid(fld, sched, err.Error()))
	}
	if strings.Contains(sched, "TZ") {
		msg := "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
		if tz != nil {
			msg = "cannot use both timeZone field and TZ or CRON_TZ in schedule"
		}
		errs = append(errs, field.Invalid(fld, sched, msg))
	}
	return errs
}

func timeZone(tz *string, fld *field.Path) field.ErrorList {
	if tz == nil {
		return nil
	}
	if *tz == "" || strings.EqualFold(*tz, "local") {
		return field.ErrorList{field.Invalid(fld, *tz, "unknown time zone "+*tz)}
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		return field.ErrorList{field.Invalid(fld, *tz, err.Error())}
	}
	return nil
}

// jobTemplate validates a CronJob's job template: its selector is always
// generated, so it may name none.
func jobTemplate(t *batchv1.JobTemplateSpec, fld *field.Path) field.ErrorList {
	errs := jobSpec(&t.Spec, fld.Child("spec"), false)
	if t.Spec.Selector != nil {
		errs = append(errs, field.Invalid(fld.Child("spec", "selector"), t.Spec.Selector, "`selector` will be auto-generated"))
	}
	if t.Spec.ManualSelector != nil && *t.Spec.ManualSelector {
		errs = append(errs, field.NotSupported(fld.Child("spec", "manualSelector"), t.Spec.ManualSelector, []string{"nil", "false"}))
	}
	return errs
}

func jobStatus(s *batchv1.JobStatus, fld *field.Path) field.ErrorList {
	counts := []count{{"active", int64(s.Active)}, {"succeeded", int64(s.Succeeded)}, {"failed", int64(s.Failed)}}
	counts = append(counts, optionalCount("ready", s.Ready)...)
	return nonNegatives(fld, append(counts, optionalCount("terminating", s.Terminating)...)...)
}
