package agent

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/agent/images"
	"github.com/nodeagent/nodeagent/agent/lifecycle"
	"github.com/nodeagent/nodeagent/cri"
)

// notSyncedRetry is when a key that came before the informer's first list
// was handed out is looked at again.
const notSyncedRetry = 100 * time.Millisecond

// syncKey syncs one pod: by name from the static pods, else from the
// cache, or by uid the leftovers of a pod nobody has.
func (a *Agent) syncKey(ctx context.Context, key workKey) error {
	if key.kind == orphanWork {
		return a.teardown(ctx, string(key.uid))
	}
	if pod := a.staticPod(key.cacheKey()); pod != nil {
		return a.syncStatic(ctx, pod)
	}
	if !a.podsSynced() {
		// The informer is still handing out its first list, and a
		// handler may see a pod of it before HasSynced turns true: the
		// key comes back once the cache can say whether its pod exists
		// (deciding now could tear down a pod the list has).
		a.queue.AddAfter(key, notSyncedRetry)
		return nil
	}
	obj, exists, err := a.pods.GetIndexer().GetByKey(key.cacheKey())
	if err != nil {
		return err
	}
	if !exists {
		return a.teardownByName(ctx, key.namespace, key.name)
	}
	pod := obj.(*corev1.Pod)
	if isMirror(pod) {
		return a.deleteMirror(ctx, pod) // its static pod is gone
	}
	return a.syncPod(ctx, pod)
}

// syncPod reads the pod (from the cache) and its runtime state, computes
// the actions, applies them and writes the status.
func (a *Agent) syncPod(ctx context.Context, pod *corev1.Pod) error {
	if err := validUID(string(pod.UID)); err != nil {
		return err // its directory would be no pod's
	}
	if t, err := a.shutdownTermination(ctx, pod); err != nil {
		return err
	} else if t != nil {
		return a.syncTermination(ctx, pod, t) // shutdown.go
	}
	st, err := a.podState(ctx, string(pod.UID))
	if err != nil {
		return err
	}
	a.checkAdopted(ctx, pod, st)
	if ok, err := a.admitNewPod(ctx, pod, st); !ok {
		return err
	}
	actions := computePodActions(a.withOldStatus(pod), st, a.clock.Now(), defaultBackoff, a.probeView(pod, st))
	if actions.deadlineExceeded {
		a.event(pod, corev1.EventTypeNormal, lifecycle.ReasonDeadlineExceeded, "%s", lifecycle.MessageDeadlineExceeded)
	}
	if actions.killPod {
		a.prober.RemovePod(pod.UID)
	} else {
		a.prober.AddPod(pod)
		a.volumeManager.AddPod(pod) // a running pod's downwardAPI follows it
	}
	var early error
	if actions.killPod && pod.DeletionTimestamp == nil {
		// A pod that finished: say so (Ready false, Succeeded or Failed)
		// before the sandbox teardown (CNI DEL, netns) takes its time. The
		// teardown goes on when the API cannot be reached.
		early = a.updateStatus(ctx, pod, st)
	}
	applyErr := errors.Join(early, a.apply(ctx, pod, st, actions))
	if actions.changesRuntime() {
		if st, err = a.podState(ctx, string(pod.UID)); err != nil {
			return errors.Join(applyErr, err)
		}
	}
	a.noteBackoff(pod, actions)
	if err := a.updateStatus(ctx, pod, st); err != nil {
		return errors.Join(applyErr, err)
	}
	if pod.DeletionTimestamp != nil && !isStatic(pod) && len(st.running()) == 0 {
		return errors.Join(applyErr, a.finishDeletion(ctx, pod))
	}
	if d := minBackoff(actions.backoff); d > 0 {
		a.queue.AddAfter(podWorkKey(pod), d)
	}
	a.syncAtDeadline(pod)
	var img *images.Error
	if errors.As(applyErr, &img) && img.RetryAfter > 0 {
		// A pull in back-off is not a failure of the sync: try again when
		// it ends.
		a.queue.AddAfter(podWorkKey(pod), img.RetryAfter)
		return nil
	}
	return applyErr
}

func podKey(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }

// podState lists the pod's sandboxes and containers.
func (a *Agent) podState(ctx context.Context, uid string) (podState, error) {
	filter := map[string]string{cri.LabelPodUID: uid}
	sbs, err := a.rt.ListPodSandboxes(ctx, filter)
	if err != nil {
		return podState{}, err
	}
	cs, err := a.rt.ListContainers(ctx, filter)
	if err != nil {
		return podState{}, err
	}
	sortSandboxes(sbs)
	return podState{sandboxes: sbs, containers: cs}, nil
}

// apply carries out the actions in order, stopping at the first failure.
func (a *Agent) apply(ctx context.Context, pod *corev1.Pod, st podState, act podActions) error {
	if act.killPod {
		return a.killPod(ctx, pod, st)
	}
	if act.createSandbox || len(act.startInit) > 0 || len(act.start) > 0 {
		// Containers start only on published volumes.
		if ready, err := a.waitForVolumes(ctx, pod); !ready {
			return err
		}
	}
	if act.createSandbox && len(st.sandboxes) > 0 {
		a.event(pod, corev1.EventTypeNormal, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
	}
	if err := a.killContainers(ctx, pod, podIPOf(pod, st, a.nodeIP), act.kill, nil); err != nil {
		return err
	}
	sb, ok := st.readySandbox()
	if act.createSandbox {
		var err error
		if sb, err = a.createSandbox(ctx, pod, act.sandboxAttempt); err != nil {
			return err
		}
		ok = true
	}
	if !ok {
		return nil
	}
	for _, i := range act.startInit {
		if err := a.startContainer(ctx, pod, sb, st, pod.Spec.InitContainers[i]); err != nil {
			return err
		}
	}
	var errs []error
	for _, i := range act.start {
		errs = append(errs, a.startContainer(ctx, pod, sb, st, pod.Spec.Containers[i]))
	}
	return errors.Join(errs...)
}

// finishDeletion removes the pod from the API once nothing of it runs: the
// delete with grace period 0 that confirms the termination.
func (a *Agent) finishDeletion(ctx context.Context, pod *corev1.Pod) error {
	if st, err := a.podState(ctx, string(pod.UID)); err != nil || len(st.sandboxes) > 0 {
		return err
	}
	zero := int64(0)
	uid := pod.UID
	err := a.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err == nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		a.forgetPod(pod.UID) // the final status was written
		return nil
	}
	return err
}

// forgetPod drops what the agent holds in memory for a pod that is gone
// from the node.
func (a *Agent) forgetPod(uid types.UID) {
	a.podSync.forget(uid)
	a.statusManager.RemovePod(uid)
	a.prober.RemovePod(uid)
	a.tokens.forget(uid)
}

func (a *Agent) noteBackoff(pod *corev1.Pod, act podActions) {
	for name := range act.backoff {
		// The message names no time left: a status that changed every second
		// would make every sync write it again.
		msg := "back-off restarting failed container=" + name + " pod=" + pod.Name + "_" + pod.Namespace + "(" + string(pod.UID) + ")"
		a.podSync.get(pod.UID).setWaiting(name, waitingInfo{reason: "CrashLoopBackOff", message: msg})
		a.event(pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s", name, pod.Name)
	}
}

func minBackoff(m map[string]time.Duration) time.Duration {
	var d time.Duration
	for _, v := range m {
		if d == 0 || v < d {
			d = v
		}
	}
	return d
}

func (a *Agent) event(pod *corev1.Pod, typ, reason, format string, args ...any) {
	if a.recorder != nil {
		a.recorder.Eventf(pod, typ, reason, format, args...)
	}
}

// eventRecorder records events through the agent's recorder, which Run
// makes; components wired in New (images, the prober, the hooks) get it
// this way. obj is a pod, or a reference to one of its containers.
type eventRecorder struct{ a *Agent }

func (e eventRecorder) Eventf(obj runtime.Object, typ, reason, format string, args ...any) {
	if e.a.recorder != nil {
		e.a.recorder.Eventf(obj, typ, reason, format, args...)
	}
}

// getSecret reads a Secret with the node's credentials.
func (a *Agent) getSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return a.client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
}
