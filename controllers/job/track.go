package job

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// finishedPods are the job's pods that finished since the last count.
type finishedPods struct {
	succeeded, failed []*corev1.Pod
	drop              []*corev1.Pod // pods whose finalizer goes: these, ignored ones, uncounted ones
	failJob           *verdict
}

// newlyFinished sorts the pods that still carry the tracking finalizer:
// succeeded; failed (Failed, or being deleted before they succeeded when
// the job has no podFailurePolicy), each matched against the policy;
// pods already in uncountedTerminatedPods, and pods being deleted while
// the job is suspended (the suspension deleted them), only lose their
// finalizer.
func newlyFinished(job *batchv1.Job, pods []*corev1.Pod, mem *jobMemory) finishedPods {
	var out finishedPods
	uncounted := uncountedSet(job.Status.UncountedTerminatedPods)
	for _, pod := range pods {
		if _, gone := mem.removed[pod.UID]; !hasFinalizer(pod) || gone {
			continue
		}
		if uncounted[pod.UID] {
			out.drop = append(out.drop, pod)
			continue
		}
		switch {
		case pod.Status.Phase == corev1.PodSucceeded:
			out.succeeded = append(out.succeeded, pod)
		case pod.Status.Phase == corev1.PodFailed:
			out.classifyFailed(job, pod)
		case pod.DeletionTimestamp != nil && suspended(job):
			// deleted because the job is suspended: not a failure
		case pod.DeletionTimestamp != nil && job.Spec.PodFailurePolicy == nil:
			out.failed = append(out.failed, pod)
		default:
			continue
		}
		out.drop = append(out.drop, pod)
	}
	return out
}

func (f *finishedPods) classifyFailed(job *batchv1.Job, pod *corev1.Pod) {
	v := matchPolicy(job.Spec.PodFailurePolicy, pod)
	switch v.action {
	case batchv1.PodFailurePolicyActionIgnore:
		return
	case batchv1.PodFailurePolicyActionFailJob:
		if f.failJob == nil {
			f.failJob = &v
		}
	}
	f.failed = append(f.failed, pod)
}

func uncountedSet(u *batchv1.UncountedTerminatedPods) map[types.UID]bool {
	out := map[types.UID]bool{}
	if u == nil {
		return out
	}
	for _, uid := range append(append([]types.UID(nil), u.Succeeded...), u.Failed...) {
		out[uid] = true
	}
	return out
}

// track counts the job's finished pods the way kube's finalizer-based
// tracking does, so that a count survives the pod's deletion and a crash:
// first the status records them in uncountedTerminatedPods (an Indexed
// job's succeeded indexes go to completedIndexes right away, and a FailJob
// match sets FailureTarget), then their finalizers are removed, then they
// move into succeeded and failed. The last step is only made in job.Status
// here; the sync's status write stores it.
func (c *Controller) track(ctx context.Context, job *batchv1.Job, pods []*corev1.Pod, mem *jobMemory, now time.Time) ([]event, bool, error) {
	f := newlyFinished(job, pods, mem)
	var events []event
	if len(f.succeeded)+len(f.failed) > 0 {
		st := &job.Status
		if st.UncountedTerminatedPods == nil {
			st.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
		}
		for _, pod := range f.succeeded {
			st.UncountedTerminatedPods.Succeeded = append(st.UncountedTerminatedPods.Succeeded, pod.UID)
		}
		for _, pod := range f.failed {
			st.UncountedTerminatedPods.Failed = append(st.UncountedTerminatedPods.Failed, pod.UID)
		}
		addIndexes(job, f.succeeded)
		if f.failJob != nil && !hasTrue(st, batchv1.JobFailureTarget) {
			setCondition(st, batchv1.JobFailureTarget, corev1.ConditionTrue, reasonPolicy, f.failJob.message, metav1.NewTime(now))
			events = append(events, event{corev1.EventTypeWarning, reasonPolicy, f.failJob.message})
		}
		if err := c.writeStatus(ctx, job, mem); err != nil {
			return nil, false, err
		}
	}
	if err := c.dropFinalizers(ctx, mem, f.drop); err != nil {
		return events, false, err
	}
	return events, fold(job, mem, now), nil
}

func addIndexes(job *batchv1.Job, succeeded []*corev1.Pod) {
	if !indexed(job) || job.Spec.Completions == nil || len(succeeded) == 0 {
		return
	}
	n := int(*job.Spec.Completions)
	done := parseIndexes(job.Status.CompletedIndexes, n)
	for _, pod := range succeeded {
		if i := podIndex(pod, n); i != noIndex {
			done[i] = struct{}{}
		}
	}
	job.Status.CompletedIndexes = done.String()
}

// fold moves the uncounted pods (their finalizers gone) into the counts,
// and keeps the backoff record: failures since the last success. It
// reports whether it moved any.
func fold(job *batchv1.Job, mem *jobMemory, now time.Time) bool {
	st := &job.Status
	u := st.UncountedTerminatedPods
	if u == nil || len(u.Succeeded)+len(u.Failed) == 0 {
		return false
	}
	if len(u.Succeeded) > 0 {
		mem.failures = 0
	}
	if len(u.Failed) > 0 {
		mem.failures += len(u.Failed)
		mem.lastFail = now
	}
	st.Failed += int32(len(u.Failed))
	if indexed(job) && job.Spec.Completions != nil {
		st.Succeeded = int32(len(parseIndexes(st.CompletedIndexes, int(*job.Spec.Completions))))
	} else {
		st.Succeeded += int32(len(u.Succeeded))
	}
	st.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	return true
}

// dropFinalizers removes the tracking finalizer from the pods, and
// remembers it did until the cache shows it.
func (c *Controller) dropFinalizers(ctx context.Context, mem *jobMemory, pods []*corev1.Pod) error {
	patch := []byte(fmt.Sprintf(`{"metadata":{"$deleteFromPrimitiveList/finalizers":[%q]}}`, TrackingFinalizer))
	for _, pod := range pods {
		if !hasFinalizer(pod) {
			continue
		}
		_, err := c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("remove the tracking finalizer of pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		if mem != nil {
			mem.removed[pod.UID] = struct{}{}
		}
	}
	return nil
}
