package job

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestIndexSet(t *testing.T) {
	s := parseIndexes("0,2-4,7,x,9-12", 11)
	if got := s.String(); got != "0,2-4,7,9-10" {
		t.Errorf("got %q", got)
	}
	if got := (indexSet{}).String(); got != "" {
		t.Errorf("empty: %q", got)
	}
}

func TestBackoffDoublesToSixMinutes(t *testing.T) {
	now := time.Unix(1000, 0)
	for failures, want := range map[int]time.Duration{0: 0, 1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second,
		6: 320 * time.Second, 7: 6 * time.Minute, 40: 6 * time.Minute} {
		mem := &jobMemory{failures: failures, lastFail: now}
		if got := mem.backoff(now); got != want {
			t.Errorf("%d failures: %v, want %v", failures, got, want)
		}
	}
}

// With restartPolicy OnFailure the containers' restarts count against
// backoffLimit, as kube counts them.
func TestOnFailureRestartsCountAgainstBackoffLimit(t *testing.T) {
	job := newJob("onfailure", func(j *batchv1.Job) {
		j.Spec.BackoffLimit = ptr[int32](2)
		j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	})
	job.Status.StartTime = ptr(metav1.NewTime(epoch))
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", UID: "p"}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
		ContainerStatuses: []corev1.ContainerStatus{{Name: "main", RestartCount: 1}}}}
	if p := decide(job, []*corev1.Pod{pod}, epoch, 0, true); hasTrue(&p.status, batchv1.JobFailureTarget) {
		t.Fatalf("failed after 1 restart of 2: %+v", p.status.Conditions)
	}
	pod.Status.ContainerStatuses[0].RestartCount = 2
	p := decide(job, []*corev1.Pod{pod}, epoch, 0, true)
	if c := condition(&p.status, batchv1.JobFailureTarget); c == nil || c.Reason != "BackoffLimitExceeded" || len(p.del) != 1 {
		t.Errorf("after 2 restarts: %+v, deletes %d", p.status.Conditions, len(p.del))
	}
}

// A job without completions (a work queue) makes no new pods once one
// succeeded and lets the running ones finish; it completes when none runs.
func TestWorkQueueJob(t *testing.T) {
	job := newJob("queue", func(j *batchv1.Job) { j.Spec.Completions, j.Spec.Parallelism = nil, ptr[int32](3) })
	job.Status.StartTime = ptr(metav1.NewTime(epoch))
	job.Status.Succeeded = 1
	running := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "r", UID: "r"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	p := decide(job, []*corev1.Pod{running}, epoch, 0, true)
	if len(p.create) != 0 || len(p.del) != 0 || hasTrue(&p.status, batchv1.JobSuccessCriteriaMet) {
		t.Errorf("with one running: create %v, delete %d, conditions %+v", p.create, len(p.del), p.status.Conditions)
	}
	p = decide(job, nil, epoch, 0, true)
	if len(p.create) != 0 || !hasTrue(&p.status, batchv1.JobSuccessCriteriaMet) {
		t.Errorf("with none running: create %v, conditions %+v", p.create, p.status.Conditions)
	}
}

// Under podReplacementPolicy Failed (the default with a podFailurePolicy)
// a terminating pod keeps its place until it is Failed; under
// TerminatingOrFailed it is replaced at once.
func TestPodReplacementPolicy(t *testing.T) {
	now := metav1.NewTime(epoch)
	ending := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "e", UID: "e", DeletionTimestamp: &now,
		Annotations: map[string]string{CompletionIndexKey: "0"}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	for _, tc := range []struct {
		name    string
		mutate  func(*batchv1.Job)
		creates int
	}{
		{"TerminatingOrFailed", nil, 1},
		{"Failed", func(j *batchv1.Job) { j.Spec.PodReplacementPolicy = ptr(batchv1.Failed) }, 0},
		{"podFailurePolicy", func(j *batchv1.Job) { j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{} }, 0},
		{"Indexed Failed", func(j *batchv1.Job) {
			j.Spec.PodReplacementPolicy = ptr(batchv1.Failed)
			j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
		}, 0},
		{"Indexed TerminatingOrFailed", func(j *batchv1.Job) { j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion) }, 1},
	} {
		job := newJob("r", tc.mutate)
		job.Status.StartTime = &now
		if p := decide(job, []*corev1.Pod{ending}, epoch, 0, true); len(p.create) != tc.creates {
			t.Errorf("%s: creates %v, want %d", tc.name, p.create, tc.creates)
		}
	}
}
