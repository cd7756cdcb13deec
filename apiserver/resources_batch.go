package apiserver

import (
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/api/defaults"
	"github.com/nodeagent/nodeagent/api/validation"
)

var batchV1 = batchv1.SchemeGroupVersion

// batchResources are the batch/v1 Jobs and CronJobs.
func batchResources() []*resource {
	return []*resource{
		{gvk: batchV1.WithKind("Job"), plural: "jobs", singular: "job",
			categories: []string{"all"}, namespaced: true, subresources: []string{"status"},
			newObj: func() runtime.Object { return &batchv1.Job{} }, newList: func() runtime.Object { return &batchv1.JobList{} },
			strategy: withStatus(strategy{defaults: typed(defaults.Job), validate: typedV(validation.Job),
				validateUpdate: typedU(validation.JobUpdate), prepareCreate: typed(prepareJob)}),
			fieldLabels: []string{"status.successful"}, fieldSet: typedF(func(j *batchv1.Job) fields.Set {
				return fields.Set{"status.successful": strconv.Itoa(int(j.Status.Succeeded))}
			})},
		{gvk: batchV1.WithKind("CronJob"), plural: "cronjobs", singular: "cronjob", shortNames: []string{"cj"},
			categories: []string{"all"}, namespaced: true, subresources: []string{"status"},
			newObj: func() runtime.Object { return &batchv1.CronJob{} }, newList: func() runtime.Object { return &batchv1.CronJobList{} },
			strategy: withStatus(strategy{defaults: typed(defaults.CronJob), validate: typedV(validation.CronJob),
				validateUpdate: typedU(validation.CronJobUpdate),
				prepareCreate:  typed(func(c *batchv1.CronJob) { c.Status = batchv1.CronJobStatus{} })})},
	}
}

// prepareJob is kube's job PrepareForCreate: no status, and the selector
// generated from the uid unless the job chose its own.
func prepareJob(j *batchv1.Job) {
	j.Status = batchv1.JobStatus{}
	if j.Spec.ManualSelector == nil {
		j.Spec.ManualSelector = new(bool)
	}
	defaults.JobSelector(j)
}
