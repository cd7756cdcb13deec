package status

import (
	corev1 "k8s.io/api/core/v1"
)

// probeResults are the prober's readiness and startup results for one
// pod's containers, by container ID as the pod status shows it
// (containerd://<id>).
type probeResults struct {
	ready, started map[string]bool
}

func newProbeResults() probeResults {
	return probeResults{ready: map[string]bool{}, started: map[string]bool{}}
}

// apply sets the Started and Ready flags of the running containers as
// kubelet's prober manager does: a container with a startup probe has
// started once that probe succeeded; one with a readiness probe is ready
// once that probe succeeded, and never before it has started. Without a
// prober (probing false) probes are not run, and a running container is
// started and ready.
func (r probeResults) apply(pod *corev1.Pod, s *corev1.PodStatus, probing bool) {
	for _, ic := range pod.Spec.InitContainers {
		if isSidecar(ic) {
			r.applyOne(ic, s.InitContainerStatuses, probing)
		}
	}
	for _, c := range pod.Spec.Containers {
		r.applyOne(c, s.ContainerStatuses, probing)
	}
}

func (r probeResults) applyOne(spec corev1.Container, statuses []corev1.ContainerStatus, probing bool) {
	for i := range statuses {
		cs := &statuses[i]
		if cs.Name != spec.Name {
			continue
		}
		running := cs.State.Running != nil
		started := running && (!probing || spec.StartupProbe == nil || r.started[cs.ContainerID])
		ready := started && (!probing || spec.ReadinessProbe == nil || r.ready[cs.ContainerID])
		cs.Started, cs.Ready = &started, ready
	}
}

// prune forgets the results of containers the status no longer shows.
func (r probeResults) prune(s *corev1.PodStatus) {
	shown := map[string]bool{}
	for _, list := range [][]corev1.ContainerStatus{s.InitContainerStatuses, s.ContainerStatuses} {
		for _, cs := range list {
			shown[cs.ContainerID] = true
		}
	}
	for id := range r.ready {
		if !shown[id] {
			delete(r.ready, id)
		}
	}
	for id := range r.started {
		if !shown[id] {
			delete(r.started, id)
		}
	}
}
