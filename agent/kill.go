package agent

import (
	"context"
	"errors"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/lifecycle"
	"github.com/nodeagent/nodeagent/cri"
)

// killPod stops the pod's containers (in parallel, each with its grace
// period; sidecars after the app containers, in reverse order) and its
// sandbox; for a deleted pod it also removes them.
func (a *Agent) killPod(ctx context.Context, pod *corev1.Pod, st podState) error {
	running := st.running()
	kills := make([]killRequest, 0, len(running))
	names := map[string]bool{}
	for _, c := range running {
		name := c.Labels[cri.LabelContainerName]
		kills = append(kills, killRequest{id: c.ID, name: name})
		names[name] = true
	}
	ord := lifecycle.NewOrdering(pod, names, a.clock)
	if err := a.killContainers(ctx, pod, podIPOf(pod, st, a.nodeIP), kills, ord); err != nil {
		return err
	}
	if pod.DeletionTimestamp != nil {
		return a.teardown(ctx, string(pod.UID))
	}
	// A finished pod's volumes go now that its containers have stopped
	// (another pod may need its claim); its directory stays with it.
	a.volumeManager.RemovePod(pod.UID)
	return a.stopSandboxes(ctx, pod, st)
}

// killContainers stops the containers in parallel (killContainer) and
// waits for every one.
func (a *Agent) killContainers(ctx context.Context, pod *corev1.Pod, podIP string, kills []killRequest, ord *lifecycle.Ordering) error {
	errc := make(chan error, len(kills))
	for _, k := range kills {
		go func() { errc <- a.killContainer(ctx, pod, podIP, k, ord) }()
	}
	var errs []error
	for range kills {
		errs = append(errs, <-errc)
	}
	return errors.Join(errs...)
}

// killContainer stops one container as kubelet's killContainer does: the
// Killing event; the preStop hook, cut at the grace period; the wait for
// the container's turn (ord, nil when it need not wait: sidecars stop after
// the app containers); then the stop signal with what is left of the grace
// period, at least lifecycle.MinGracePeriod, before SIGKILL.
func (a *Agent) killContainer(ctx context.Context, pod *corev1.Pod, podIP string, k killRequest, ord *lifecycle.Ordering) error {
	msg := k.message
	if msg == "" {
		msg = "Stopping container " + k.name
	}
	a.event(pod, corev1.EventTypeNormal, "Killing", "%s", msg)
	spec := containerSpec(pod, k.name)
	grace := lifecycle.GracePeriod(pod, spec, k.reason)
	if g, ok := a.podSync.gracePeriod(pod.UID); ok {
		grace = g // evicted
	}
	var used time.Duration
	if spec != nil {
		used = a.hooks.PreStop(ctx, lifecycle.Container{Pod: pod, Spec: spec, ID: k.id, PodIP: podIP}, grace)
	}
	if ord != nil {
		defer ord.Stopped(k.name)
		used += ord.WaitForTurn(ctx, k.name, grace-used)
	}
	return a.rt.StopContainer(ctx, k.id, lifecycle.StopTimeout(grace, used))
}

// podIPOf is the pod's first IP, as its ready sandbox records it (the
// node's for a host network pod); "" when it has none.
func podIPOf(pod *corev1.Pod, st podState, nodeIP string) string {
	if pod.Spec.HostNetwork {
		return nodeIP
	}
	sb, ok := st.readySandbox()
	if !ok {
		return ""
	}
	return sandboxIP(sb)
}

// sandboxIP is the first IP a sandbox records.
func sandboxIP(sb cri.Sandbox) string {
	ip, _, _ := strings.Cut(sb.Labels[labelPodIPs], ",")
	return ip
}
