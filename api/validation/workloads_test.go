package validation

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodeagent/nodeagent/api/defaults"
)

func appTemplate(restart corev1.RestartPolicy) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "a"}},
		Spec: corev1.PodSpec{RestartPolicy: restart, Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
}

func appSelector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": "a"}}
}

// wantErrors checks that errs are exactly the errors whose texts start with
// want, in order.
func wantErrors(t *testing.T, what string, errs field.ErrorList, want ...string) {
	t.Helper()
	if len(errs) != len(want) {
		t.Errorf("%s: got %v, want %d errors %q", what, errs, len(want), want)
		return
	}
	for i, e := range errs {
		if !strings.HasPrefix(e.Error(), want[i]) {
			t.Errorf("%s: error %d is %q, want %q...", what, i, e.Error(), want[i])
		}
	}
}

func TestStatefulSetRules(t *testing.T) {
	ss := &appsv1.StatefulSet{ObjectMeta: meta("db", "ns"), Spec: appsv1.StatefulSetSpec{Selector: appSelector(), Template: appTemplate("")}}
	defaults.StatefulSet(ss)
	wantErrors(t, "valid", StatefulSet(ss))
	up := ss.DeepCopy()
	up.ResourceVersion, ss.ResourceVersion = "2", "2"
	up.Spec.Replicas, up.Spec.Template.Spec.Containers[0].Image = new(int32), "j"
	wantErrors(t, "replicas and template change", StatefulSetUpdate(up, ss))
	up.Spec.ServiceName = "other"
	wantErrors(t, "serviceName change", StatefulSetUpdate(up, ss),
		"spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
	bad := ss.DeepCopy()
	bad.Spec.PodManagementPolicy = "Random"
	bad.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{}}
	bad.Spec.Template.Spec.ActiveDeadlineSeconds = new(int64)
	wantErrors(t, "invalid", StatefulSet(bad),
		`spec.podManagementPolicy: Invalid value: "Random": must be 'OrderedReady' or 'Parallel'`,
		"spec.updateStrategy.rollingUpdate: Invalid value:",
		"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported")
}

func TestDaemonSetRollingUpdate(t *testing.T) {
	ds := &appsv1.DaemonSet{ObjectMeta: meta("agent", "ns"), Spec: appsv1.DaemonSetSpec{Selector: appSelector(), Template: appTemplate("")}}
	defaults.DaemonSet(ds)
	wantErrors(t, "defaults", DaemonSet(ds))
	zero, one := intstr.FromInt32(0), intstr.FromString("10%")
	ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = &zero
	wantErrors(t, "both zero", DaemonSet(ds), "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0")
	ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable, ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = &one, &one
	wantErrors(t, "both set", DaemonSet(ds), `spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "10%": may not be set when maxUnavailable is non-zero`)
}

func TestDeploymentStrategyRules(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: meta("web", "ns"), Spec: appsv1.DeploymentSpec{Selector: appSelector(), Template: appTemplate("")}}
	defaults.Deployment(d)
	over := intstr.FromString("150%")
	d.Spec.Strategy.RollingUpdate.MaxUnavailable = &over
	d.Spec.ProgressDeadlineSeconds = new(int32)
	wantErrors(t, "over 100%", Deployment(d),
		"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%",
		"spec.progressDeadlineSeconds: Invalid value: 0: must be greater than minReadySeconds")
	d.Spec.ProgressDeadlineSeconds = nil
	d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
	wantErrors(t, "recreate with rollingUpdate", Deployment(d),
		"spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'")
}

func TestCronJobRules(t *testing.T) {
	c := &batchv1.CronJob{ObjectMeta: meta(strings.Repeat("a", 53), "ns"), Spec: batchv1.CronJobSpec{Schedule: "0 0 * * MON",
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Selector: appSelector(), Template: appTemplate(corev1.RestartPolicyNever)}}}}
	defaults.CronJob(c)
	tz := "Mars/Olympus"
	c.Spec.TimeZone = &tz
	wantErrors(t, "cronjob", CronJob(c),
		"metadata.name: Invalid value: \""+c.Name+"\": must be no more than 52 characters",
		`spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus`,
		"spec.jobTemplate.spec.selector: Invalid value:")
}

// A StatefulSet's template is not validated as a pod (its mounts may name
// its claim templates), only its labels and restart rules.
func TestStatefulSetTemplateMountsClaims(t *testing.T) {
	ss := &appsv1.StatefulSet{ObjectMeta: meta("db", "ns"), Spec: appsv1.StatefulSetSpec{Selector: appSelector(), Template: appTemplate("")}}
	ss.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	ss.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
	defaults.StatefulSet(ss)
	wantErrors(t, "claim mount", StatefulSet(ss))
}

func TestWorkloadStatusRules(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: meta("web", "ns"), Spec: appsv1.DeploymentSpec{Selector: appSelector(), Template: appTemplate("")}}
	defaults.Deployment(d)
	d.ResourceVersion = "1"
	up := d.DeepCopy()
	up.Status = appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 2, AvailableReplicas: -1}
	wantErrors(t, "deployment status", DeploymentUpdate(up, d),
		"status.availableReplicas: Invalid value: -1: must be greater than or equal to 0",
		"status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas")
	rs := &appsv1.ReplicaSet{ObjectMeta: meta("web", "ns"), Spec: appsv1.ReplicaSetSpec{Selector: appSelector(), Template: appTemplate("")}}
	defaults.ReplicaSet(rs)
	rs.ResourceVersion = "1"
	upRS := rs.DeepCopy()
	upRS.Status = appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 1, AvailableReplicas: 2}
	wantErrors(t, "replicaset status", ReplicaSetUpdate(upRS, rs),
		"status.availableReplicas: Invalid value: 2: cannot be greater than readyReplicas")
}

func TestJobAndCronJobUpdates(t *testing.T) {
	j := &batchv1.Job{ObjectMeta: meta("pi", "ns"), Spec: batchv1.JobSpec{Template: appTemplate(corev1.RestartPolicyNever)}}
	j.UID, j.ResourceVersion = "u1", "1"
	defaults.Job(j)
	defaults.JobSelector(j)
	wantErrors(t, "job", Job(j))
	up := j.DeepCopy()
	up.Status.Active = -1
	wantErrors(t, "job status", JobUpdate(up, j), "status.active: Invalid value: -1: must be greater than or equal to 0")
	up = j.DeepCopy()
	up.Spec.Completions = int32Ptr(3)
	wantErrors(t, "completions", JobUpdate(up, j), "spec.completions: Invalid value: 3: field is immutable")

	c := &batchv1.CronJob{ObjectMeta: meta(strings.Repeat("a", 53), "ns"), Spec: batchv1.CronJobSpec{Schedule: "@daily",
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: appTemplate(corev1.RestartPolicyNever)}}}}
	c.ResourceVersion = "1"
	defaults.CronJob(c)
	wantErrors(t, "long name on update", CronJobUpdate(c.DeepCopy(), c))
}

func int32Ptr(v int32) *int32 { return &v }
