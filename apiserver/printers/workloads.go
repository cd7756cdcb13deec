package printers

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
)

// The apps/v1 and batch/v1 workloads print kube-apiserver's columns; -o
// wide adds the template's containers and images and the selector.

func templateColumns(selector string) []metav1.TableColumnDefinition {
	cols := []metav1.TableColumnDefinition{
		wide(column("Containers", "Names of each container in the template.")),
		wide(column("Images", "Images referenced by each container in the template.")),
	}
	if selector != "" {
		cols = append(cols, wide(column("Selector", selector)))
	}
	return cols
}

// containerCells are the names and images of cs, each joined by ",".
func containerCells(cs []corev1.Container) (names, images string) {
	n, i := make([]string, len(cs)), make([]string, len(cs))
	for k, c := range cs {
		n[k], i[k] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}

func templateCells(t *corev1.PodTemplateSpec, selector ...string) []interface{} {
	names, images := containerCells(t.Spec.Containers)
	cells := []interface{}{names, images}
	for _, s := range selector {
		cells = append(cells, s)
	}
	return cells
}

// selectorString is a selector as a label query, "<invalid>" when it is not one.
func selectorString(sel *metav1.LabelSelector) string {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "<invalid>"
	}
	return s.String()
}

func replicas(r *int32) int32 {
	if r == nil {
		return 0
	}
	return *r
}

func deploymentPrinter() Printer {
	status := appsv1.DeploymentStatus{}.SwaggerDoc()
	return typed[*appsv1.Deployment]{
		columns: append([]metav1.TableColumnDefinition{nameColumn(),
			column("Ready", "Number of the pod with ready state"),
			column("Up-to-date", status["updatedReplicas"]),
			column("Available", status["availableReplicas"]),
			ageColumn()}, templateColumns(appsv1.DeploymentSpec{}.SwaggerDoc()["selector"])...),
		cells: func(d *appsv1.Deployment, now time.Time) []interface{} {
			return append([]interface{}{d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
				int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), age(d.CreationTimestamp, now)},
				templateCells(&d.Spec.Template, selectorString(d.Spec.Selector))...)
		},
	}
}

func replicaSetPrinter() Printer {
	status := appsv1.ReplicaSetStatus{}.SwaggerDoc()
	return typed[*appsv1.ReplicaSet]{
		columns: append([]metav1.TableColumnDefinition{nameColumn(),
			intColumn("Desired", appsv1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]),
			intColumn("Current", status["replicas"]),
			intColumn("Ready", status["readyReplicas"]),
			ageColumn()}, templateColumns(appsv1.ReplicaSetSpec{}.SwaggerDoc()["selector"])...),
		cells: func(rs *appsv1.ReplicaSet, now time.Time) []interface{} {
			return append([]interface{}{rs.Name, int64(replicas(rs.Spec.Replicas)), int64(rs.Status.Replicas),
				int64(rs.Status.ReadyReplicas), age(rs.CreationTimestamp, now)},
				templateCells(&rs.Spec.Template, metav1.FormatLabelSelector(rs.Spec.Selector))...)
		},
	}
}

func statefulSetPrinter() Printer {
	return typed[*appsv1.StatefulSet]{
		columns: append([]metav1.TableColumnDefinition{nameColumn(),
			column("Ready", "Number of the pod with ready state"), ageColumn()}, templateColumns("")...),
		cells: func(ss *appsv1.StatefulSet, now time.Time) []interface{} {
			return append([]interface{}{ss.Name, fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, replicas(ss.Spec.Replicas)),
				age(ss.CreationTimestamp, now)}, templateCells(&ss.Spec.Template)...)
		},
	}
}

func daemonSetPrinter() Printer {
	status := appsv1.DaemonSetStatus{}.SwaggerDoc()
	return typed[*appsv1.DaemonSet]{
		columns: append([]metav1.TableColumnDefinition{nameColumn(),
			intColumn("Desired", status["desiredNumberScheduled"]),
			intColumn("Current", status["currentNumberScheduled"]),
			intColumn("Ready", status["numberReady"]),
			intColumn("Up-to-date", status["updatedNumberScheduled"]),
			intColumn("Available", status["numberAvailable"]),
			column("Node Selector", corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]),
			ageColumn()}, templateColumns(appsv1.DaemonSetSpec{}.SwaggerDoc()["selector"])...),
		cells: func(ds *appsv1.DaemonSet, now time.Time) []interface{} {
			s := ds.Status
			return append([]interface{}{ds.Name, int64(s.DesiredNumberScheduled), int64(s.CurrentNumberScheduled),
				int64(s.NumberReady), int64(s.UpdatedNumberScheduled), int64(s.NumberAvailable),
				labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector), age(ds.CreationTimestamp, now)},
				templateCells(&ds.Spec.Template, metav1.FormatLabelSelector(ds.Spec.Selector))...)
		},
	}
}

func controllerRevisionPrinter() Printer {
	return typed[*appsv1.ControllerRevision]{
		columns: []metav1.TableColumnDefinition{nameColumn(),
			column("Controller", "Controller of the object"),
			intColumn("Revision", appsv1.ControllerRevision{}.SwaggerDoc()["revision"]),
			ageColumn()},
		cells: func(cr *appsv1.ControllerRevision, now time.Time) []interface{} {
			return []interface{}{cr.Name, controllerName(metav1.GetControllerOf(cr)), cr.Revision, age(cr.CreationTimestamp, now)}
		},
	}
}

// controllerName is "kind.group/name" of a controller reference, as kubectl
// names resources.
func controllerName(ref *metav1.OwnerReference) string {
	if ref == nil {
		return none
	}
	gv, _ := schema.ParseGroupVersion(ref.APIVersion)
	return strings.ToLower(gv.WithKind(ref.Kind).GroupKind().String()) + "/" + ref.Name
}

func jobPrinter() Printer {
	return typed[*batchv1.Job]{
		columns: append([]metav1.TableColumnDefinition{nameColumn(),
			column("Status", "Status of the job."),
			column("Completions", batchv1.JobStatus{}.SwaggerDoc()["succeeded"]),
			column("Duration", "Time required to complete the job."),
			ageColumn()}, templateColumns(batchv1.JobSpec{}.SwaggerDoc()["selector"])...),
		cells: func(j *batchv1.Job, now time.Time) []interface{} {
			return append([]interface{}{j.Name, jobStatus(j), jobCompletions(j), jobDuration(j, now), age(j.CreationTimestamp, now)},
				templateCells(&j.Spec.Template, metav1.FormatLabelSelector(j.Spec.Selector))...)
		},
	}
}

// jobStatus is the STATUS kubectl shows: the first of the finished
// conditions, Terminating, then the transient conditions, else Running.
func jobStatus(j *batchv1.Job) string {
	for _, c := range []batchv1.JobConditionType{batchv1.JobComplete, batchv1.JobFailed} {
		if jobCondition(j, c) {
			return string(c)
		}
	}
	if j.DeletionTimestamp != nil {
		return "Terminating"
	}
	for _, c := range []batchv1.JobConditionType{batchv1.JobSuspended, batchv1.JobFailureTarget, batchv1.JobSuccessCriteriaMet} {
		if jobCondition(j, c) {
			return string(c)
		}
	}
	return "Running"
}

func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func jobCompletions(j *batchv1.Job) string {
	switch {
	case j.Spec.Completions != nil:
		return fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	case j.Spec.Parallelism != nil && *j.Spec.Parallelism > 1:
		return fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, *j.Spec.Parallelism)
	}
	return fmt.Sprintf("%d/1", j.Status.Succeeded)
}

func jobDuration(j *batchv1.Job, now time.Time) string {
	switch {
	case j.Status.StartTime == nil:
		return ""
	case j.Status.CompletionTime == nil:
		return duration.HumanDuration(now.Sub(j.Status.StartTime.Time))
	}
	return duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
}

func cronJobPrinter() Printer {
	spec, status := batchv1.CronJobSpec{}.SwaggerDoc(), batchv1.CronJobStatus{}.SwaggerDoc()
	return typed[*batchv1.CronJob]{
		columns: append([]metav1.TableColumnDefinition{nameColumn(),
			column("Schedule", spec["schedule"]),
			column("Timezone", spec["timeZone"]),
			{Name: "Suspend", Type: "boolean", Description: spec["suspend"]},
			intColumn("Active", status["active"]),
			column("Last Schedule", status["lastScheduleTime"]),
			ageColumn()}, templateColumns(batchv1.JobSpec{}.SwaggerDoc()["selector"])...),
		cells: func(c *batchv1.CronJob, now time.Time) []interface{} {
			last := none
			if t := c.Status.LastScheduleTime; t != nil {
				last = age(*t, now)
			}
			return append([]interface{}{c.Name, c.Spec.Schedule, derefOr(c.Spec.TimeZone, none), boolPtr(c.Spec.Suspend),
				int64(len(c.Status.Active)), last, age(c.CreationTimestamp, now)},
				templateCells(&c.Spec.JobTemplate.Spec.Template, metav1.FormatLabelSelector(c.Spec.JobTemplate.Spec.Selector))...)
		},
	}
}

func boolPtr(b *bool) string {
	switch {
	case b == nil:
		return unset
	case *b:
		return "True"
	}
	return "False"
}

func intColumn(name, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: "integer", Description: description}
}
