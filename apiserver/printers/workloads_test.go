package printers

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func workloadTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{NodeSelector: map[string]string{"disk": "ssd"},
		Containers: []corev1.Container{{Name: "web", Image: "nginx"}, {Name: "log", Image: "busybox"}}}}
}

func int32Ptr(v int32) *int32 { return &v }

func TestWorkloadPrinters(t *testing.T) {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	d := &appsv1.Deployment{ObjectMeta: objectMeta("web"), Spec: appsv1.DeploymentSpec{Replicas: int32Ptr(3), Selector: sel, Template: workloadTemplate()},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2}}
	checkPrinter(t, "deployments", "NAME | READY | UP-TO-DATE | AVAILABLE | AGE | CONTAINERS | IMAGES | SELECTOR", d,
		[]interface{}{"web", "2/3", int64(3), int64(2), "10m", "web,log", "nginx,busybox", "app=web"})

	rs := &appsv1.ReplicaSet{ObjectMeta: objectMeta("web-1"), Spec: appsv1.ReplicaSetSpec{Replicas: int32Ptr(2), Selector: sel, Template: workloadTemplate()},
		Status: appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 1}}
	checkPrinter(t, "replicasets", "NAME | DESIRED | CURRENT | READY | AGE | CONTAINERS | IMAGES | SELECTOR", rs,
		[]interface{}{"web-1", int64(2), int64(2), int64(1), "10m", "web,log", "nginx,busybox", "app=web"})

	ss := &appsv1.StatefulSet{ObjectMeta: objectMeta("db"), Spec: appsv1.StatefulSetSpec{Replicas: int32Ptr(1), Selector: sel, Template: workloadTemplate()}}
	checkPrinter(t, "statefulsets", "NAME | READY | AGE | CONTAINERS | IMAGES", ss,
		[]interface{}{"db", "0/1", "10m", "web,log", "nginx,busybox"})

	ds := &appsv1.DaemonSet{ObjectMeta: objectMeta("agent"), Spec: appsv1.DaemonSetSpec{Selector: sel, Template: workloadTemplate()},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 1, CurrentNumberScheduled: 1, NumberReady: 1, UpdatedNumberScheduled: 1}}
	checkPrinter(t, "daemonsets", "NAME | DESIRED | CURRENT | READY | UP-TO-DATE | AVAILABLE | NODE SELECTOR | AGE | CONTAINERS | IMAGES | SELECTOR", ds,
		[]interface{}{"agent", int64(1), int64(1), int64(1), int64(1), int64(0), "disk=ssd", "10m", "web,log", "nginx,busybox", "app=web"})

	yes := true
	cr := &appsv1.ControllerRevision{ObjectMeta: objectMeta("agent-7d4"), Revision: 2}
	cr.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", Controller: &yes}}
	checkPrinter(t, "controllerrevisions", "NAME | CONTROLLER | REVISION | AGE", cr, []interface{}{"agent-7d4", "daemonset.apps/agent", int64(2), "10m"})

	start, done := ago(5*time.Minute), ago(2*time.Minute)
	j := &batchv1.Job{ObjectMeta: objectMeta("pi"), Spec: batchv1.JobSpec{Completions: int32Ptr(1), Selector: sel, Template: workloadTemplate()},
		Status: batchv1.JobStatus{Succeeded: 1, StartTime: &start, CompletionTime: &done,
			Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}
	checkPrinter(t, "jobs", "NAME | STATUS | COMPLETIONS | DURATION | AGE | CONTAINERS | IMAGES | SELECTOR", j,
		[]interface{}{"pi", "Complete", "1/1", "3m", "10m", "web,log", "nginx,busybox", "app=web"})
	running := &batchv1.Job{ObjectMeta: objectMeta("work"), Spec: batchv1.JobSpec{Parallelism: int32Ptr(3)}, Status: batchv1.JobStatus{StartTime: &start}}
	if cells := row(t, "jobs", running); cells[1] != "Running" || cells[2] != "0/1 of 3" || cells[3] != "5m" {
		t.Errorf("running job: %v", cells)
	}

	no := false
	cj := &batchv1.CronJob{ObjectMeta: objectMeta("tick"), Spec: batchv1.CronJobSpec{Schedule: "*/5 * * * *", Suspend: &no,
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: workloadTemplate()}}},
		Status: batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "tick-1"}}, LastScheduleTime: &done}}
	checkPrinter(t, "cronjobs", "NAME | SCHEDULE | TIMEZONE | SUSPEND | ACTIVE | LAST SCHEDULE | AGE | CONTAINERS | IMAGES | SELECTOR", cj,
		[]interface{}{"tick", "*/5 * * * *", "<none>", "False", int64(1), "2m", "10m", "web,log", "nginx,busybox", "<none>"})
}

func checkPrinter(t *testing.T, resource, wantHeader string, obj runtime.Object, want []interface{}) {
	t.Helper()
	p, ok := For(resource)
	if got := header(p.Columns(), true); !ok || got != wantHeader {
		t.Errorf("%s header\n got %q\nwant %q", resource, got, wantHeader)
	}
	checkCells(t, row(t, resource, obj), want)
}
