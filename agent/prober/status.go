package prober

import (
	corev1 "k8s.io/api/core/v1"
)

// UpdatePodStatus sets the started and ready flags of the pod's container
// statuses from the probes, as kubelet does: a running container has
// started once its startup probe succeeded (at once without one); a
// started app container or sidecar is ready once its readiness probe
// succeeded (at once without one); a regular init container is ready once
// it exited 0. A readiness probe that has no result yet is run now.
func (m *Manager) UpdatePodStatus(pod *corev1.Pod, s *corev1.PodStatus) {
	for i := range s.ContainerStatuses {
		m.updateContainer(pod, &s.ContainerStatuses[i])
	}
	for i := range s.InitContainerStatuses {
		cs := &s.InitContainerStatuses[i]
		spec, ok := initSpec(pod, cs.Name)
		if ok && !IsSidecar(spec) {
			started := cs.State.Running != nil
			cs.Started = &started
			cs.Ready = cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0
			continue
		}
		m.updateContainer(pod, cs)
	}
}

func (m *Manager) updateContainer(pod *corev1.Pod, cs *corev1.ContainerStatus) {
	started := m.started(pod, cs)
	cs.Started = &started
	cs.Ready = started && m.ready(pod, cs)
}

func (m *Manager) started(pod *corev1.Pod, cs *corev1.ContainerStatus) bool {
	if cs.State.Running == nil {
		return false
	}
	if res, ok := m.results.Get(Startup, cs.ContainerID); ok {
		return res == Success
	}
	_, probed := m.worker(pod.UID, cs.Name, Startup)
	return !probed // a startup probe that has not run yet: not started
}

func (m *Manager) ready(pod *corev1.Pod, cs *corev1.ContainerStatus) bool {
	if cs.State.Running == nil {
		return false
	}
	if res, ok := m.results.Get(Readiness, cs.ContainerID); ok && res == Success {
		return true
	}
	w, probed := m.worker(pod.UID, cs.Name, Readiness)
	if probed {
		w.trigger()
	}
	return !probed
}

func initSpec(pod *corev1.Pod, name string) (corev1.Container, bool) {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return c, true
		}
	}
	return corev1.Container{}, false
}
