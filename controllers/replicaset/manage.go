package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/controllers/internal/claim"
)

// manage creates or deletes pods so that the ReplicaSet has
// spec.replicas, at most BurstReplicas in one sync.
func (c *Controller) manage(ctx context.Context, rs *appsv1.ReplicaSet, key string, pods []*corev1.Pod) error {
	diff := len(pods) - int(replicas(rs))
	switch {
	case diff < 0:
		return c.createPods(ctx, rs, key, min(-diff, c.cfg.BurstReplicas))
	case diff > 0:
		return c.deletePods(ctx, rs, key, PodsToDelete(pods, min(diff, c.cfg.BurstReplicas)))
	}
	return nil
}

// createPods creates n pods in kube's slow-start batches (1, 2, 4, ...),
// stopping after a batch with a failure: a quota or admission refusal
// fails the rest the same way. Pods not created are not expected.
func (c *Controller) createPods(ctx context.Context, rs *appsv1.ReplicaSet, key string, n int) error {
	c.exp.Expect(key, n, nil)
	created, err := SlowStart(n, 1, func() error { return c.createPod(ctx, rs) })
	for range n - created {
		c.exp.Created(key)
	}
	return err
}

func (c *Controller) createPod(ctx context.Context, rs *appsv1.ReplicaSet) error {
	pod, err := c.client.CoreV1().Pods(rs.Namespace).Create(ctx, PodFromTemplate(rs), metav1.CreateOptions{})
	if err != nil {
		c.rec.Eventf(rs, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
		return fmt.Errorf("create pod of %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	c.rec.Eventf(rs, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", pod.Name)
	return nil
}

// PodFromTemplate is a new pod of the ReplicaSet: the template's labels,
// annotations, finalizers and spec, a name generated from "<rs>-", and the
// ReplicaSet as its controller.
func PodFromTemplate(rs *appsv1.ReplicaSet) *corev1.Pod {
	t := rs.Spec.Template.DeepCopy()
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: rs.Namespace, GenerateName: rs.Name + "-",
			Labels: t.Labels, Annotations: t.Annotations, Finalizers: t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{claim.ControllerRef(rs, "apps/v1", "ReplicaSet")}},
		Spec: t.Spec,
	}
}

// deletePods deletes the chosen pods in parallel; a pod already gone
// counts as deleted.
func (c *Controller) deletePods(ctx context.Context, rs *appsv1.ReplicaSet, key string, victims []*corev1.Pod) error {
	podKeys := make([]string, len(victims))
	for i, p := range victims {
		podKeys[i] = p.Namespace + "/" + p.Name
	}
	c.exp.Expect(key, 0, podKeys)
	errs := make([]error, len(victims))
	var wg sync.WaitGroup
	for i, p := range victims {
		wg.Go(func() { errs[i] = c.deletePod1(ctx, rs, key, p) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *Controller) deletePod1(ctx context.Context, rs *appsv1.ReplicaSet, key string, p *corev1.Pod) error {
	err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
	if err == nil {
		c.rec.Eventf(rs, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", p.Name)
		return nil
	}
	c.exp.Deleted(key, p.Namespace+"/"+p.Name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	c.rec.Eventf(rs, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
	return fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err)
}

// SlowStart calls fn count times in batches that start at initial and
// double, the calls of a batch in parallel, and stops after a batch with
// an error. It returns how many calls succeeded and the first error.
func SlowStart(count, initial int, fn func() error) (int, error) {
	done := 0
	for batch := min(count, initial); batch > 0; batch = min(2*batch, count-done) {
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Go(func() {
				if err := fn(); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		done += batch - len(errs)
		if err, failed := <-errs; failed {
			return done, err
		}
	}
	return done, nil
}
