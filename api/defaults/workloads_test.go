package defaults

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func template() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
}

// The workload defaults are idempotent, as the API layer applies them on
// every update, and leave what the client set.
func TestWorkloadDefaultsIdempotent(t *testing.T) {
	three := int32(3)
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: &three, Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}, Template: template()}}
	ss := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Template: template(), UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}}}
	ds := &appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{Template: template()}}
	j := &batchv1.Job{Spec: batchv1.JobSpec{Parallelism: &three, Template: template()}}
	c := &batchv1.CronJob{Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template()}}}}
	type defaulted struct {
		obj   any
		apply func()
	}
	objs := []defaulted{{d, func() { Deployment(d) }}, {ss, func() { StatefulSet(ss) }}, {ds, func() { DaemonSet(ds) }},
		{j, func() { Job(j) }}, {c, func() { CronJob(c) }}}
	for _, o := range objs {
		o.apply()
		once := reflect.ValueOf(o.obj).Elem().Interface()
		o.apply()
		if twice := reflect.ValueOf(o.obj).Elem().Interface(); !reflect.DeepEqual(once, twice) {
			t.Errorf("%T: not idempotent", o.obj)
		}
	}
	if *d.Spec.Replicas != 3 || d.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("deployment: %+v", d.Spec)
	}
	if ss.Spec.UpdateStrategy.RollingUpdate != nil || *ss.Spec.Replicas != 1 {
		t.Errorf("statefulset: %+v", ss.Spec)
	}
	// A Job with a parallelism but no completions is a work queue: its
	// completions stay unset.
	if j.Spec.Completions != nil || *j.Spec.Parallelism != 3 || *j.Spec.BackoffLimit != 6 {
		t.Errorf("job: %+v", j.Spec)
	}
	if c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || c.Spec.JobTemplate.Spec.Completions != nil {
		t.Errorf("cronjob template: %+v", c.Spec.JobTemplate.Spec)
	}
}

// JobSelector keeps a selector and labels the client chose, adding the
// uid to them; a manual selector is left alone.
func TestJobSelector(t *testing.T) {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "pi", UID: "u1"}, Spec: batchv1.JobSpec{Template: template()}}
	j.Spec.Template.Labels = map[string]string{"job-name": "mine"}
	JobSelector(j)
	want := map[string]string{"job-name": "mine", "batch.kubernetes.io/job-name": "pi", "controller-uid": "u1", "batch.kubernetes.io/controller-uid": "u1"}
	if !reflect.DeepEqual(j.Spec.Template.Labels, want) || !reflect.DeepEqual(j.Spec.Selector.MatchLabels, map[string]string{"batch.kubernetes.io/controller-uid": "u1"}) {
		t.Errorf("generated: labels %v, selector %v", j.Spec.Template.Labels, j.Spec.Selector)
	}
	manual, yes := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "m", UID: "u2"}}, true
	manual.Spec.ManualSelector = &yes
	JobSelector(manual)
	if manual.Spec.Selector != nil || manual.Spec.Template.Labels != nil {
		t.Errorf("manual: %+v", manual.Spec)
	}
}
