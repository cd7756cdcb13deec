package cronjob

import (
	"context"
	"fmt"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// expectationsTimeout bounds the wait for the cache to show the status the
// controller wrote; it runs on the real clock (as kube's expectations do),
// not the schedule's, which tests jump.
const expectationsTimeout = 5 * time.Minute

func (c *Controller) sync(ctx context.Context, k key) error {
	cached, err := c.cronjobs.CronJobs(k.namespace).Get(k.name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	cj, now := cached.DeepCopy(), c.clock.Now()
	if c.stale(cj) {
		return nil // its newer copy is on its way and queues it
	}
	jobs, err := c.ownedJobs(cj)
	if err != nil {
		return err
	}
	missing, err := c.missing(ctx, cj, jobs)
	if err != nil {
		return err
	}
	sched, schedErr := parseSchedule(cj)
	p := decide(cj, jobs, missing, sched, schedErr, now)
	if p.requeue > 0 {
		c.queue.AddAfter(k, p.requeue)
	}
	return c.apply(ctx, cj, &p)
}

func (c *Controller) ownedJobs(cj *batchv1.CronJob) ([]*batchv1.Job, error) {
	all, err := c.jobs.Jobs(cj.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var out []*batchv1.Job
	for _, j := range all {
		if ref := metav1.GetControllerOf(j); ref != nil && ref.UID == cj.UID {
			out = append(out, j)
		}
	}
	return out, nil
}

// missing are the active jobs neither the cache nor the server has.
func (c *Controller) missing(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) (map[types.UID]bool, error) {
	have := map[types.UID]bool{}
	for _, j := range jobs {
		have[j.UID] = true
	}
	out := map[types.UID]bool{}
	for _, ref := range cj.Status.Active {
		if have[ref.UID] {
			continue
		}
		j, err := c.client.BatchV1().Jobs(cj.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err) || (err == nil && j.UID != ref.UID):
			out[ref.UID] = true
		case err != nil:
			return nil, fmt.Errorf("get active job %s/%s: %w", cj.Namespace, ref.Name, err)
		}
	}
	return out, nil
}

func (c *Controller) apply(ctx context.Context, cj *batchv1.CronJob, p *plan) error {
	for _, ref := range p.replace {
		if err := c.deleteJob(ctx, cj, ref.Name, ref.UID); err != nil {
			return err
		}
	}
	if p.create != nil {
		if err := c.createJob(ctx, cj, p); err != nil {
			return err
		}
	}
	if !equality.Semantic.DeepEqual(cj.Status, p.status) {
		cj.Status = p.status
		if _, err := c.client.BatchV1().CronJobs(cj.Namespace).UpdateStatus(ctx, cj, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update status of cronjob %s/%s: %w", cj.Namespace, cj.Name, err)
		}
		c.wrote(cj)
	}
	for _, e := range p.events {
		c.recorder.Eventf(cj, e.kind, e.reason, "%s", e.message)
	}
	for _, j := range p.history {
		if err := c.deleteJob(ctx, cj, j.Name, j.UID); err != nil {
			return err
		}
	}
	return nil
}

// createJob creates the scheduled run and records it in the plan's
// status; a job of that name the cronjob already controls counts as
// created (an earlier sync made it), one it does not is left alone.
func (c *Controller) createJob(ctx context.Context, cj *batchv1.CronJob, p *plan) error {
	job, err := c.client.BatchV1().Jobs(cj.Namespace).Create(ctx, p.create, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		job, err = c.client.BatchV1().Jobs(cj.Namespace).Get(ctx, p.create.Name, metav1.GetOptions{})
		if err == nil && !metav1.IsControlledBy(job, cj) {
			c.log.Info("a job of the scheduled run's name exists and is not the cronjob's", "cronjob", cj.Namespace+"/"+cj.Name, "job", job.Name)
			return nil
		}
	} else if err == nil {
		c.recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %v", job.Name)
	}
	if err != nil {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return fmt.Errorf("create job %s/%s: %w", cj.Namespace, p.create.Name, err)
	}
	if _, done := finished(job); !done && !activeNamed(p.status.Active, job.Name) {
		p.status.Active = append(p.status.Active, corev1.ObjectReference{Kind: "Job", APIVersion: "batch/v1",
			Namespace: job.Namespace, Name: job.Name, UID: job.UID, ResourceVersion: job.ResourceVersion})
	}
	scheduled, err := time.Parse(time.RFC3339, p.create.Annotations[ScheduledTimestampAnnotation])
	if err != nil {
		return fmt.Errorf("cronjob %s/%s scheduled time: %w", cj.Namespace, cj.Name, err)
	}
	t := metav1.NewTime(scheduled)
	p.status.LastScheduleTime = &t
	return nil
}

func (c *Controller) deleteJob(ctx context.Context, cj *batchv1.CronJob, name string, uid types.UID) error {
	policy := metav1.DeletePropagationBackground
	err := c.client.BatchV1().Jobs(cj.Namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy,
		Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedDelete", "Deleted job: %v", err)
		return fmt.Errorf("delete job %s/%s: %w", cj.Namespace, name, err)
	}
	c.recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %v", name)
	return nil
}

func (c *Controller) stale(cj *batchv1.CronJob) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.written[cj.UID]
	return ok && w.fingerprint != fingerprint(&cj.Status) && c.cacheClock.Since(w.at) <= expectationsTimeout
}

func (c *Controller) wrote(cj *batchv1.CronJob) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written[cj.UID] = written{fingerprint(&cj.Status), c.cacheClock.Now()}
}

// fingerprint: the active jobs and the times, in seconds as stored.
func fingerprint(st *batchv1.CronJobStatus) string {
	s := ""
	for _, ref := range st.Active {
		s += string(ref.UID) + ","
	}
	for _, t := range []*metav1.Time{st.LastScheduleTime, st.LastSuccessfulTime} {
		s += "|"
		if t != nil {
			s += strconv.FormatInt(t.Unix(), 10)
		}
	}
	return s
}
