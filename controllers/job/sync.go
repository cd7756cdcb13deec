package job

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// syncJob counts the job's finished pods, then runs its plan: pods
// deleted and created, the status written, events recorded. A job being
// deleted or finished only has its pods' finalizers removed (and a
// finished one is deleted once its TTL passes).
func (c *Controller) syncJob(ctx context.Context, k key) error {
	cached, err := c.jobs.Jobs(k.namespace).Get(k.name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	job, now := cached.DeepCopy(), c.clock.Now()
	mem := c.mem.get(job.UID)
	pods, err := c.ownedPods(job)
	if err != nil {
		return err
	}
	settled := mem.observe(pods, c.cacheClock.Now())
	if mem.stale(&job.Status, c.cacheClock.Now()) {
		return nil // the job's newer status is on its way; its update queues it
	}
	if job.DeletionTimestamp != nil || finished(job) {
		if err := c.dropFinalizers(ctx, mem, pods); err != nil {
			return err
		}
		return c.expire(ctx, k, job, now)
	}
	events, folded, err := c.track(ctx, job, pods, mem, now)
	c.record(job, events)
	if err != nil {
		return err
	}
	p := decide(job, pods, now, mem.backoff(now), settled)
	if p.requeue > 0 {
		c.queue.AddAfter(k, p.requeue)
	}
	return c.apply(ctx, job, mem, &p, folded)
}

// apply runs the plan; the status is written when it changed (or when
// the sync counted pods, which it has only in memory so far).
func (c *Controller) apply(ctx context.Context, job *batchv1.Job, mem *jobMemory, p *plan, folded bool) error {
	if len(p.del)+len(p.create) > 0 && len(mem.creates)+len(mem.deletes) == 0 {
		mem.since = c.cacheClock.Now()
	}
	if err := c.deletePods(ctx, job, mem, p.del); err != nil {
		return err
	}
	if err := c.createPods(ctx, job, mem, p.create); err != nil {
		return err
	}
	if folded || !equality.Semantic.DeepEqual(job.Status, p.status) {
		job.Status = p.status
		if err := c.writeStatus(ctx, job, mem); err != nil {
			return err
		}
	}
	c.record(job, p.events)
	return nil
}

func (c *Controller) record(job *batchv1.Job, events []event) {
	for _, e := range events {
		c.recorder.Eventf(job, e.kind, e.reason, "%s", e.message)
	}
}

func (c *Controller) deletePods(ctx context.Context, job *batchv1.Job, mem *jobMemory, pods []*corev1.Pod) error {
	for _, pod := range pods {
		uid := pod.UID
		err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			c.recorder.Eventf(job, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
			return fmt.Errorf("delete pod %s/%s of job %s: %w", pod.Namespace, pod.Name, job.Name, err)
		}
		mem.deletes[uid] = struct{}{}
		c.recorder.Eventf(job, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", pod.Name)
	}
	return nil
}

func (c *Controller) createPods(ctx context.Context, job *batchv1.Job, mem *jobMemory, indexes []int) error {
	for _, index := range indexes {
		pod, err := c.client.CoreV1().Pods(job.Namespace).Create(ctx, newPod(job, index), metav1.CreateOptions{})
		if err != nil {
			c.recorder.Eventf(job, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
			return fmt.Errorf("create a pod of job %s/%s: %w", job.Namespace, job.Name, err)
		}
		mem.creates[pod.Name] = struct{}{}
		c.recorder.Eventf(job, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", pod.Name)
	}
	return nil
}

// writeStatus stores job.Status and keeps the job's new resourceVersion.
func (c *Controller) writeStatus(ctx context.Context, job *batchv1.Job, mem *jobMemory) error {
	updated, err := c.client.BatchV1().Jobs(job.Namespace).UpdateStatus(ctx, job, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update status of job %s/%s: %w", job.Namespace, job.Name, err)
	}
	job.ResourceVersion = updated.ResourceVersion
	mem.wrote(&job.Status, c.cacheClock.Now())
	return nil
}

// expire is kube's TTL-after-finished controller: a finished job with
// ttlSecondsAfterFinished is deleted (its pods in the background) that
// long after its Complete or Failed condition; checked again on the server
// copy before the delete, so a TTL changed meanwhile counts.
func (c *Controller) expire(ctx context.Context, k key, job *batchv1.Job, now time.Time) error {
	left, ok := ttlLeft(job, now)
	if !ok {
		return nil
	}
	if left > 0 {
		c.queue.AddAfter(k, left)
		return nil
	}
	fresh, err := c.client.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get job %s/%s: %w", job.Namespace, job.Name, err)
	}
	if left, ok := ttlLeft(fresh, now); !ok || left > 0 || fresh.UID != job.UID {
		return nil
	}
	policy, uid := metav1.DeletePropagationBackground, fresh.UID
	err = c.client.BatchV1().Jobs(job.Namespace).Delete(ctx, job.Name, metav1.DeleteOptions{
		PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete job %s/%s after its TTL: %w", job.Namespace, job.Name, err)
	}
	c.log.Info("deleted a finished job after its TTL", "job", job.Namespace+"/"+job.Name)
	return nil
}

// ttlLeft is the time until a finished job with a TTL expires.
func ttlLeft(job *batchv1.Job, now time.Time) (time.Duration, bool) {
	ttl := job.Spec.TTLSecondsAfterFinished
	if ttl == nil || job.DeletionTimestamp != nil || !finished(job) {
		return 0, false
	}
	var at time.Time
	for _, t := range []batchv1.JobConditionType{batchv1.JobComplete, batchv1.JobFailed} {
		if c := condition(&job.Status, t); c != nil && c.Status == corev1.ConditionTrue {
			at = c.LastTransitionTime.Time
		}
	}
	return at.Add(time.Duration(*ttl) * time.Second).Sub(now), true
}
