package apiserver

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

func webTemplate(labels map[string]string, restart corev1.RestartPolicy) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{RestartPolicy: restart, Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
}

func webLabels() map[string]string { return map[string]string{"app": "web"} }

func webSelector() *metav1.LabelSelector { return &metav1.LabelSelector{MatchLabels: webLabels()} }

func testDeployment(name string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Selector: webSelector(), Template: webTemplate(webLabels(), "")}}
}

func testJob(name string) *batchv1.Job {
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.JobSpec{Template: webTemplate(nil, corev1.RestartPolicyNever)}}
}

func ptr[T any](v T) *T { return &v }

// A Deployment gets kube's defaults (its own and its pod template's), a
// generation that follows spec changes only, a status only the status
// subresource writes, and a scale subresource that reads and writes
// spec.replicas (what kubectl scale does, with a merge patch).
func TestDeploymentDefaultsStatusAndScale(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	deps := ts.admin(t).AppsV1().Deployments("default")
	in := testDeployment("web")
	in.Status.Replicas = 7
	d, err := deps.Create(bg, in, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ru := d.Spec.Strategy.RollingUpdate
	switch {
	case *d.Spec.Replicas != 1, d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType,
		ru == nil || *ru.MaxSurge != intstr.FromString("25%") || *ru.MaxUnavailable != intstr.FromString("25%"),
		*d.Spec.RevisionHistoryLimit != 10, *d.Spec.ProgressDeadlineSeconds != 600:
		t.Fatalf("deployment defaults: %+v", d.Spec)
	}
	if ps := d.Spec.Template.Spec; ps.RestartPolicy != corev1.RestartPolicyAlways || ps.DNSPolicy != corev1.DNSClusterFirst ||
		ps.Containers[0].ImagePullPolicy != corev1.PullAlways || ps.Containers[0].TerminationMessagePath == "" || ps.SchedulerName == "" {
		t.Fatalf("pod template defaults: %+v", ps)
	}
	if d.Generation != 1 || d.Status.Replicas != 0 {
		t.Fatalf("create: generation %d, status %+v", d.Generation, d.Status)
	}

	d.Status.Replicas = 2
	d.Labels = map[string]string{"x": "y"}
	d.Spec.Replicas, d.Spec.Strategy, d.Spec.Template.Spec.DNSPolicy = nil, appsv1.DeploymentStrategy{}, ""
	if d, err = deps.Update(bg, d, metav1.UpdateOptions{}); err != nil || d.Generation != 1 || d.Status.Replicas != 0 {
		t.Fatalf("metadata update: generation %d, status %+v, %v", d.Generation, d.Status, err)
	}
	d.Status.Replicas, d.Status.ReadyReplicas, d.Spec.MinReadySeconds = 1, 1, 5
	if d, err = deps.UpdateStatus(bg, d, metav1.UpdateOptions{}); err != nil || d.Generation != 1 || d.Status.Replicas != 1 || d.Spec.MinReadySeconds != 0 {
		t.Fatalf("status update: generation %d, status %+v, minReadySeconds %d, %v", d.Generation, d.Status, d.Spec.MinReadySeconds, err)
	}
	// A Deployment's annotations count as its spec (kube: its controller
	// copies them to its ReplicaSets).
	d.Annotations = map[string]string{"note": "x"}
	if d, err = deps.Update(bg, d, metav1.UpdateOptions{}); err != nil || d.Generation != 2 {
		t.Fatalf("annotation update: generation %d, %v", d.Generation, err)
	}
	d.Annotations["note"] = "status"
	if d, err = deps.UpdateStatus(bg, d, metav1.UpdateOptions{}); err != nil || d.Generation != 2 {
		t.Fatalf("status update with an annotation: generation %d, %v", d.Generation, err)
	}

	sc, err := deps.GetScale(bg, "web", metav1.GetOptions{})
	if err != nil || sc.Spec.Replicas != 1 || sc.Status.Replicas != 1 || sc.Status.Selector != "app=web" || sc.ResourceVersion != d.ResourceVersion {
		t.Fatalf("get scale: %+v %v", sc, err)
	}
	sc.Spec.Replicas = 3
	if sc, err = deps.UpdateScale(bg, "web", sc, metav1.UpdateOptions{}); err != nil || sc.Spec.Replicas != 3 {
		t.Fatalf("update scale: %+v %v", sc, err)
	}
	sc = &autoscalingv1.Scale{}
	err = ts.admin(t).AppsV1().RESTClient().Patch(types.MergePatchType).Namespace("default").Resource("deployments").Name("web").
		SubResource("scale").Body([]byte(`{"spec":{"replicas":4}}`)).Do(bg).Into(sc)
	if err != nil || sc.Spec.Replicas != 4 || sc.Status.Selector != "app=web" {
		t.Fatalf("patch scale: %+v %v", sc, err)
	}
	d, _ = deps.Get(bg, "web", metav1.GetOptions{})
	if *d.Spec.Replicas != 4 || d.Generation != 4 || d.Status.Replicas != 1 {
		t.Fatalf("after scaling: replicas %d, generation %d, status %+v", *d.Spec.Replicas, d.Generation, d.Status)
	}

	_, err = deps.UpdateScale(bg, "web", &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: autoscalingv1.ScaleSpec{Replicas: -1}}, metav1.UpdateOptions{})
	wantInvalid(t, err, `Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`)
	_, err = deps.UpdateScale(bg, "web", &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", ResourceVersion: "1"},
		Spec: autoscalingv1.ScaleSpec{Replicas: 2}}, metav1.UpdateOptions{})
	if !apierrors.IsConflict(err) {
		t.Fatalf("stale scale update: %v", err)
	}
	_, err = deps.UpdateScale(bg, "web", &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "other"},
		Spec: autoscalingv1.ScaleSpec{Replicas: 2}}, metav1.UpdateOptions{})
	if !apierrors.IsBadRequest(err) || err.Error() != "the name of the object (other) does not match the name on the URL (web)" {
		t.Fatalf("scale of another name: %v", err)
	}
	if _, err := deps.GetScale(bg, "nope", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("scale of a missing deployment: %v", err)
	}
}

// Every apps/v1 and batch/v1 kind is created, read, listed, updated and
// has its status written with kube's defaults; ReplicaSets and
// StatefulSets scale.
func TestWorkloadKindsLifecycle(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	rs, err := c.AppsV1().ReplicaSets("default").Create(bg, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs"},
		Spec: appsv1.ReplicaSetSpec{Selector: webSelector(), Template: webTemplate(webLabels(), "")}}, metav1.CreateOptions{})
	if err != nil || *rs.Spec.Replicas != 1 {
		t.Fatalf("replicaset: %+v %v", rs, err)
	}
	rs.Status.Replicas = 1
	if rs, err = c.AppsV1().ReplicaSets("default").UpdateStatus(bg, rs, metav1.UpdateOptions{}); err != nil || rs.Status.Replicas != 1 {
		t.Fatalf("replicaset status: %v", err)
	}
	if _, err = c.AppsV1().ReplicaSets("default").UpdateScale(bg, "rs", &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "rs"},
		Spec: autoscalingv1.ScaleSpec{Replicas: 0}}, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	ss, err := c.AppsV1().StatefulSets("default").Create(bg, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{Selector: webSelector(), Template: webTemplate(webLabels(), "")}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := ss.Spec.PersistentVolumeClaimRetentionPolicy
	if *ss.Spec.Replicas != 1 || ss.Spec.PodManagementPolicy != appsv1.OrderedReadyPodManagement ||
		ss.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType || *ss.Spec.UpdateStrategy.RollingUpdate.Partition != 0 ||
		p == nil || p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType || p.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType ||
		*ss.Spec.RevisionHistoryLimit != 10 || ss.Spec.ServiceName != "" {
		t.Fatalf("statefulset defaults: %+v", ss.Spec)
	}
	if sc, err := c.AppsV1().StatefulSets("default").GetScale(bg, "db", metav1.GetOptions{}); err != nil || sc.Spec.Replicas != 1 {
		t.Fatalf("statefulset scale: %+v %v", sc, err)
	}

	ds, err := c.AppsV1().DaemonSets("default").Create(bg, &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec: appsv1.DaemonSetSpec{Selector: webSelector(), Template: webTemplate(webLabels(), "")}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if u := ds.Spec.UpdateStrategy; u.Type != appsv1.RollingUpdateDaemonSetStrategyType || *u.RollingUpdate.MaxUnavailable != intstr.FromInt32(1) ||
		*u.RollingUpdate.MaxSurge != intstr.FromInt32(0) || *ds.Spec.RevisionHistoryLimit != 10 {
		t.Fatalf("daemonset defaults: %+v", ds.Spec)
	}
	ds.Status.DesiredNumberScheduled = 1
	if ds, err = c.AppsV1().DaemonSets("default").UpdateStatus(bg, ds, metav1.UpdateOptions{}); err != nil || ds.Status.DesiredNumberScheduled != 1 {
		t.Fatalf("daemonset status: %v", err)
	}

	cr := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "agent-1"}, Revision: 1, Data: runtime.RawExtension{Raw: []byte(`{"spec":{}}`)}}
	if cr, err = c.AppsV1().ControllerRevisions("default").Create(bg, cr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cr.Data = runtime.RawExtension{Raw: []byte(`{"spec":{"x":1}}`)}
	_, err = c.AppsV1().ControllerRevisions("default").Update(bg, cr, metav1.UpdateOptions{})
	wantInvalidParts(t, err, "data: Invalid value: ", "field is immutable")

	cj, err := c.BatchV1().CronJobs("default").Create(bg, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "tick"},
		Spec: batchv1.CronJobSpec{Schedule: "*/5 * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
			Template: webTemplate(nil, corev1.RestartPolicyOnFailure)}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := cj.Spec; s.ConcurrencyPolicy != batchv1.AllowConcurrent || *s.Suspend || *s.SuccessfulJobsHistoryLimit != 3 ||
		*s.FailedJobsHistoryLimit != 1 || s.JobTemplate.Spec.Template.Spec.DNSPolicy != corev1.DNSClusterFirst || s.JobTemplate.Spec.BackoffLimit != nil {
		t.Fatalf("cronjob defaults: %+v", s)
	}
	now := metav1.Now()
	cj.Status.LastScheduleTime = &now
	if cj, err = c.BatchV1().CronJobs("default").UpdateStatus(bg, cj, metav1.UpdateOptions{}); err != nil || cj.Status.LastScheduleTime == nil {
		t.Fatalf("cronjob status: %v", err)
	}

	// kube's extra field labels: ReplicaSets by status.replicas, Jobs by
	// status.successful.
	if l, err := c.AppsV1().ReplicaSets("").List(bg, metav1.ListOptions{FieldSelector: "status.replicas=1"}); err != nil || len(l.Items) != 1 {
		t.Fatalf("replicasets with status.replicas=1: %v %v", l, err)
	}
	if l, err := c.AppsV1().ReplicaSets("").List(bg, metav1.ListOptions{FieldSelector: "status.replicas=0"}); err != nil || len(l.Items) != 0 {
		t.Fatalf("replicasets with status.replicas=0: %v %v", l, err)
	}
	if _, err := c.BatchV1().Jobs("").List(bg, metav1.ListOptions{FieldSelector: "status.successful=0"}); err != nil {
		t.Fatalf("jobs by status.successful: %v", err)
	}
	if _, err := c.BatchV1().CronJobs("").List(bg, metav1.ListOptions{FieldSelector: "spec.schedule=x"}); !apierrors.IsBadRequest(err) {
		t.Fatalf("cronjobs by spec.schedule: %v", err)
	}
	for _, list := range []func() (int, error){
		func() (int, error) {
			l, err := c.AppsV1().ReplicaSets("").List(bg, metav1.ListOptions{})
			return len(l.Items), err
		},
		func() (int, error) {
			l, err := c.AppsV1().StatefulSets("").List(bg, metav1.ListOptions{})
			return len(l.Items), err
		},
		func() (int, error) {
			l, err := c.AppsV1().DaemonSets("").List(bg, metav1.ListOptions{})
			return len(l.Items), err
		},
		func() (int, error) {
			l, err := c.AppsV1().ControllerRevisions("default").List(bg, metav1.ListOptions{})
			return len(l.Items), err
		},
		func() (int, error) {
			l, err := c.BatchV1().CronJobs("").List(bg, metav1.ListOptions{})
			return len(l.Items), err
		},
	} {
		if n, err := list(); err != nil || n != 1 {
			t.Fatalf("list: %d items, %v", n, err)
		}
	}
}

// A Job gets kube's defaults and, unless it chooses its own selector, the
// generated one: its pods are labelled with its name and uid (the
// batch.kubernetes.io/ labels and the legacy ones), which the Job's own
// labels copy. Its pod template stays, its status is its own.
func TestJobDefaultsAndGeneratedSelector(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	jobs := ts.admin(t).BatchV1().Jobs("default")
	j, err := jobs.Create(bg, testJob("pi"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := j.Spec
	if *s.Completions != 1 || *s.Parallelism != 1 || *s.BackoffLimit != 6 || *s.CompletionMode != batchv1.NonIndexedCompletion ||
		*s.Suspend || *s.ManualSelector || *s.PodReplacementPolicy != batchv1.TerminatingOrFailed {
		t.Fatalf("job defaults: %+v", s)
	}
	uid := string(j.UID)
	want := map[string]string{"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi", "controller-uid": uid, "job-name": "pi"}
	if fmt.Sprint(s.Template.Labels) != fmt.Sprint(want) || fmt.Sprint(j.Labels) != fmt.Sprint(want) {
		t.Fatalf("labels: template %v, job %v", s.Template.Labels, j.Labels)
	}
	if fmt.Sprint(s.Selector.MatchLabels) != fmt.Sprint(map[string]string{"batch.kubernetes.io/controller-uid": uid}) {
		t.Fatalf("selector: %+v", s.Selector)
	}

	j.Spec.Template.Spec.Containers[0].Image = "busybox"
	_, err = jobs.Update(bg, j, metav1.UpdateOptions{})
	wantInvalidParts(t, err, "spec.template: Invalid value: ", "field is immutable")
	j, _ = jobs.Get(bg, "pi", metav1.GetOptions{})
	j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"job-name": "pi"}}
	_, err = jobs.Update(bg, j, metav1.UpdateOptions{})
	wantInvalidParts(t, err, "spec.selector: Invalid value: ", "field is immutable", "`selector` not auto-generated")

	j, _ = jobs.Get(bg, "pi", metav1.GetOptions{})
	j.Status.Active = 1
	if j, err = jobs.UpdateStatus(bg, j, metav1.UpdateOptions{}); err != nil || j.Status.Active != 1 || j.Generation != 1 {
		t.Fatalf("job status: %+v %v", j.Status, err)
	}

	manual := testJob("manual")
	manual.Spec.ManualSelector = ptr(true)
	manual.Spec.Selector = webSelector()
	manual.Spec.Template.Labels = webLabels()
	if manual, err = jobs.Create(bg, manual, metav1.CreateOptions{}); err != nil || len(manual.Spec.Template.Labels) != 1 {
		t.Fatalf("manual selector job: %+v %v", manual, err)
	}

	suspended := testJob("later")
	suspended.Spec.Suspend = ptr(true)
	if suspended, err = jobs.Create(bg, suspended, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	suspended.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	if _, err = jobs.Update(bg, suspended, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("a suspended job that never started may move its pods: %v", err)
	}
}

// Each rule users hit comes back as kube's 422 with its field path and
// message.
func TestWorkloadValidation(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	deploy := func(change func(*appsv1.Deployment)) error {
		d := testDeployment("web")
		change(d)
		_, err := c.AppsV1().Deployments("default").Create(bg, d, metav1.CreateOptions{})
		return err
	}
	job := func(change func(*batchv1.Job)) error {
		j := testJob("pi")
		change(j)
		_, err := c.BatchV1().Jobs("default").Create(bg, j, metav1.CreateOptions{})
		return err
	}
	cron := func(schedule string) error {
		_, err := c.BatchV1().CronJobs("default").Create(bg, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "tick"},
			Spec: batchv1.CronJobSpec{Schedule: schedule, JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
				Template: webTemplate(nil, corev1.RestartPolicyNever)}}}}, metav1.CreateOptions{})
		return err
	}
	wantInvalid(t, deploy(func(d *appsv1.Deployment) { d.Spec.Selector = nil }),
		`Deployment.apps "web" is invalid: spec.selector: Required value`)
	wantInvalidParts(t, deploy(func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }),
		`spec.selector: Invalid value: `, `empty selector is invalid for deployment`)
	wantInvalid(t, deploy(func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "db"} }),
		`Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: {"app":"db"}: `+"`selector` does not match template `labels`")
	wantInvalid(t, deploy(func(d *appsv1.Deployment) { d.Spec.Replicas = ptr[int32](-1) }),
		`Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`)
	wantInvalid(t, deploy(func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever }),
		`Deployment.apps "web" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`)
	wantInvalid(t, deploy(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" }),
		`Deployment.apps "web" is invalid: spec.template.spec.containers[0].image: Required value`)
	wantInvalid(t, deploy(func(d *appsv1.Deployment) {
		zero := intstr.FromInt32(0)
		d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &zero, MaxUnavailable: &zero}
	}), `Deployment.apps "web" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `+"`maxSurge`"+` is 0`)

	d := testDeployment("keep")
	if _, err := c.AppsV1().Deployments("default").Create(bg, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.AppsV1().Deployments("default").Patch(bg, "keep", types.MergePatchType,
		[]byte(`{"spec":{"selector":{"matchLabels":{"app":"web","tier":"x"}},"template":{"metadata":{"labels":{"tier":"x"}}}}}`), metav1.PatchOptions{})
	wantInvalidParts(t, err, `Deployment.apps "keep" is invalid: spec.selector: Invalid value: `, `field is immutable`)

	wantInvalid(t, job(func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "" }),
		`Job.batch "pi" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"`)
	wantInvalid(t, job(func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr[int32](-1) }),
		`Job.batch "pi" is invalid: spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0`)
	wantInvalid(t, job(func(j *batchv1.Job) { j.Spec.ManualSelector = ptr(true) }),
		`Job.batch "pi" is invalid: spec.selector: Required value`)

	wantInvalid(t, cron("every minute"),
		`CronJob.batch "tick" is invalid: spec.schedule: Invalid value: "every minute": expected exactly 5 fields, found 2: [every minute]`)
	wantInvalid(t, cron(""), `CronJob.batch "tick" is invalid: spec.schedule: Required value`)
	wantInvalid(t, cron("CRON_TZ=UTC * * * * *"),
		`CronJob.batch "tick" is invalid: spec.schedule: Invalid value: "CRON_TZ=UTC * * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead`)
	if err := cron("@hourly"); err != nil {
		t.Fatalf("@hourly: %v", err)
	}

	_, err = c.AppsV1().StatefulSets("default").Create(bg, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{Selector: webSelector(), Template: webTemplate(nil, "")}}, metav1.CreateOptions{})
	wantInvalidParts(t, err, `StatefulSet.apps "db" is invalid: spec.template.metadata.labels: Invalid value: `, "`selector` does not match template `labels`")
	_, err = c.AppsV1().DaemonSets("default").Create(bg, &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec: appsv1.DaemonSetSpec{Template: webTemplate(webLabels(), "")}}, metav1.CreateOptions{})
	wantInvalid(t, err, `DaemonSet.apps "agent" is invalid: spec.selector: Required value`)
}

// A node may read or write none of the workloads, nor scale them (the
// Node authorizer grants them nothing; RBAC gives system:nodes nothing).
func TestNodeMayNotTouchWorkloads(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	if _, err := ts.admin(t).AppsV1().Deployments("default").Create(bg, testDeployment("web"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	n := ts.node(t, "n1")
	checks := map[string]func(kubernetes.Interface) error{
		"list deployments": func(c kubernetes.Interface) error {
			_, err := c.AppsV1().Deployments("").List(bg, metav1.ListOptions{})
			return err
		},
		"get deployment": func(c kubernetes.Interface) error {
			_, err := c.AppsV1().Deployments("default").Get(bg, "web", metav1.GetOptions{})
			return err
		},
		"scale deployment": func(c kubernetes.Interface) error {
			_, err := c.AppsV1().Deployments("default").GetScale(bg, "web", metav1.GetOptions{})
			return err
		},
		"create replicaset": func(c kubernetes.Interface) error {
			_, err := c.AppsV1().ReplicaSets("default").Create(bg, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
			return err
		},
		"list statefulsets": func(c kubernetes.Interface) error {
			_, err := c.AppsV1().StatefulSets("").List(bg, metav1.ListOptions{})
			return err
		},
		"list daemonsets": func(c kubernetes.Interface) error {
			_, err := c.AppsV1().DaemonSets("").List(bg, metav1.ListOptions{})
			return err
		},
		"list controllerrevisions": func(c kubernetes.Interface) error {
			_, err := c.AppsV1().ControllerRevisions("").List(bg, metav1.ListOptions{})
			return err
		},
		"create job": func(c kubernetes.Interface) error {
			_, err := c.BatchV1().Jobs("default").Create(bg, testJob("x"), metav1.CreateOptions{})
			return err
		},
		"list cronjobs": func(c kubernetes.Interface) error {
			_, err := c.BatchV1().CronJobs("").List(bg, metav1.ListOptions{})
			return err
		},
	}
	for what, check := range checks {
		if err := check(n); !apierrors.IsForbidden(err) {
			t.Errorf("node: %s: %v", what, err)
		}
	}
}

// Discovery lists the workloads with kube's names, short names, the "all"
// category and the scale subresource as autoscaling/v1 Scale.
func TestWorkloadDiscovery(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	apps, err := c.Discovery().ServerResourcesForGroupVersion("apps/v1")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]metav1.APIResource{}
	for _, r := range apps.APIResources {
		got[r.Name] = r
	}
	if d := got["deployments"]; fmt.Sprintf("%v %v %s %v", d.ShortNames, d.Categories, d.Kind, d.Namespaced) != "[deploy] [all] Deployment true" {
		t.Errorf("deployments: %+v", d)
	}
	if s := got["deployments/scale"]; s.Group != "autoscaling" || s.Version != "v1" || s.Kind != "Scale" || fmt.Sprint(s.Verbs) != "[get patch update]" {
		t.Errorf("deployments/scale: %+v", s)
	}
	for _, name := range []string{"replicasets/scale", "statefulsets/scale", "daemonsets/status", "controllerrevisions"} {
		if _, ok := got[name]; !ok {
			t.Errorf("apps/v1 lacks %s", name)
		}
	}
	if _, ok := got["daemonsets/scale"]; ok {
		t.Errorf("daemonsets have no scale")
	}
	batch, err := c.Discovery().ServerResourcesForGroupVersion("batch/v1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range batch.APIResources {
		names = append(names, r.Name+fmt.Sprint(r.ShortNames))
	}
	if fmt.Sprint(names) != "[jobs[] jobs/status[] cronjobs[cj] cronjobs/status[]]" {
		t.Errorf("batch/v1: %v", names)
	}
}
