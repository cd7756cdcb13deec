package agent

import (
	"context"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// A restarted agent adopts the sandboxes it finds running instead of
// making new ones. Their CNI attachment was made by an earlier process and
// may have been damaged since (a plugin's state lost, a link removed), so
// the first sync of each adopted sandbox runs CNI CHECK once. A failed
// CHECK is reported (log and Warning event); the running pod is left as
// it is, as kubelet does: tearing down a serving pod on a CHECK error
// would turn a diagnostic into an outage.

// reasonFailedCNICheck is the Warning event of a failed CNI CHECK.
const reasonFailedCNICheck = "FailedCNICheck"

// checkAdopted runs CNI CHECK for the pod's ready sandbox the first time
// this process sees it, unless this process made it.
func (a *Agent) checkAdopted(ctx context.Context, pod *corev1.Pod, st podState) {
	sb, ok := st.readySandbox()
	if !ok || pod.Spec.HostNetwork || pod.DeletionTimestamp != nil || a.podSync.get(pod.UID).noteSandbox(sb.ID) {
		return
	}
	uid := string(pod.UID)
	path := sb.NetNSPath
	if path == "" {
		path = filepath.Join(a.cfg.NetNSDir, a.netnsName(uid))
	}
	att := a.attachment(pod.Namespace, pod.Name, uid, sandboxAttempt(sb), path, hostPorts(pod))
	if err := a.net.Check(ctx, att); err != nil {
		a.log.Warn("CNI check of an adopted pod sandbox failed; the pod keeps running", "pod", podKey(pod), "sandbox", sb.ID, "err", err)
		a.event(pod, corev1.EventTypeWarning, reasonFailedCNICheck, "The pod's network failed CNI CHECK after the agent restarted: %v", err)
		return
	}
	a.log.Info("CNI check of an adopted pod sandbox passed", "pod", podKey(pod), "sandbox", sb.ID)
}
