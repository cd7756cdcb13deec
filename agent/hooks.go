package agent

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/nodeagent/nodeagent/agent/lifecycle"
	"github.com/nodeagent/nodeagent/cri"
)

// postStart runs the container's postStart hook right after its start, as
// kubelet's startContainer does (the sync waits for it, as long as it
// takes, unless the pod is being deleted: hookCanceller ends it then,
// as kubelet cancels a terminating pod's sync). When the hook fails, the
// container is killed ("Killing" with message FailedPostStartHook) and
// waits with reason PostStartHookError and kubelet's message; its restart
// policy and back-off then restart it.
func (a *Agent) postStart(ctx context.Context, pod *corev1.Pod, sb cri.Sandbox, spec *corev1.Container, id string) error {
	podIP := sandboxIP(sb)
	if pod.Spec.HostNetwork {
		podIP = a.nodeIP
	}
	hctx, done := a.podSync.get(pod.UID).hookContext(ctx)
	err := a.hooks.PostStart(hctx, lifecycle.Container{Pod: pod, Spec: spec, ID: id, PodIP: podIP})
	done()
	var he *lifecycle.HookError
	if !errors.As(err, &he) {
		return err
	}
	kerr := a.killContainer(ctx, pod, podIP, killRequest{id: id, name: spec.Name, message: lifecycle.ReasonFailedPostStartHook}, nil)
	a.podSync.get(pod.UID).setWaiting(spec.Name, waitingInfo{reason: he.Reason, message: he.Message})
	return errors.Join(err, kerr)
}

// hookCanceller ends the postStart hook of a pod being deleted, so that a
// hook that never returns holds neither the pod nor a worker.
func (a *Agent) hookCanceller() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) {
			if pod, ok := obj.(*corev1.Pod); ok && pod.DeletionTimestamp != nil {
				a.podSync.cancelHooks(pod.UID)
			}
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				a.podSync.cancelHooks(pod.UID)
			}
		},
	}
}
