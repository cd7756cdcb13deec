package agent

import (
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/agent/status"
	"github.com/nodeagent/nodeagent/cri"
)

// computePodStatus derives the pod's status from the runtime's state. It is
// pure: the caller supplies the time and the node's address.
func computePodStatus(pod *corev1.Pod, st podState, waiting map[string]waitingInfo, hostIP string, now time.Time) corev1.PodStatus {
	s := *pod.Status.DeepCopy()
	if s.StartTime == nil {
		t := metav1.NewTime(now)
		s.StartTime = &t
	}
	s.HostIP = hostIP
	if hostIP != "" {
		s.HostIPs = []corev1.HostIP{{IP: hostIP}}
	}
	setPodIPs(&s, pod, st, hostIP)
	s.InitContainerStatuses = containerStatuses(pod.Spec.InitContainers, st, waiting, "PodInitializing")
	initDone := initialized(pod, st)
	appWaiting := "PodInitializing"
	if initDone {
		appWaiting = "ContainerCreating"
	}
	s.ContainerStatuses = containerStatuses(pod.Spec.Containers, st, waiting, appWaiting)
	s.Phase = podPhase(pod, st, initDone)
	s.QOSClass = pod.Status.QOSClass
	setConditions(&s, pod, st, initDone, now)
	status.NormalizeTimes(&s)
	return s
}

func setPodIPs(s *corev1.PodStatus, pod *corev1.Pod, st podState, hostIP string) {
	if pod.Spec.HostNetwork {
		s.PodIP, s.PodIPs = hostIP, []corev1.PodIP{{IP: hostIP}}
		return
	}
	if len(st.sandboxes) == 0 {
		return
	}
	ips := st.sandboxes[0].Labels[labelPodIPs]
	if ips == "" {
		return
	}
	s.PodIPs = nil
	for _, ip := range strings.Split(ips, ",") {
		s.PodIPs = append(s.PodIPs, corev1.PodIP{IP: ip})
	}
	s.PodIP = s.PodIPs[0].IP
}

func containerStatuses(specs []corev1.Container, st podState, waiting map[string]waitingInfo, defaultWaiting string) []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	for _, spec := range specs {
		out = append(out, containerStatus(spec, st.instances(spec.Name), waiting[spec.Name], defaultWaiting))
	}
	return out
}

func containerStatus(spec corev1.Container, in []cri.Container, w waitingInfo, defaultWaiting string) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: spec.Name, Image: spec.Image}
	if len(in) == 0 {
		reason := defaultWaiting
		if w.reason != "" {
			reason = w.reason
		}
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: w.message}
		return cs
	}
	c := in[0]
	cs.RestartCount = int32(attempt(c))
	cs.ContainerID = "containerd://" + c.ID
	cs.ImageID = c.ImageID
	started := c.State == cri.ContainerRunning
	cs.Started, cs.Ready = &started, started
	switch c.State {
	case cri.ContainerRunning:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.StartedAt)}
	case cri.ContainerExited:
		cs.State.Terminated = terminated(c)
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	}
	if w.reason != "" && c.State != cri.ContainerRunning {
		cs.LastTerminationState.Terminated, cs.State = cs.State.Terminated, corev1.ContainerState{
			Waiting: &corev1.ContainerStateWaiting{Reason: w.reason, Message: w.message}}
	} else if len(in) > 1 && in[1].State == cri.ContainerExited {
		cs.LastTerminationState.Terminated = terminated(in[1])
	}
	return cs
}

func terminated(c cri.Container) *corev1.ContainerStateTerminated {
	reason := c.Reason
	if reason == "" {
		reason = "Error"
		if c.ExitCode == 0 {
			reason = "Completed"
		}
	}
	return &corev1.ContainerStateTerminated{ExitCode: c.ExitCode, Reason: reason, ContainerID: "containerd://" + c.ID,
		StartedAt: metav1.NewTime(c.StartedAt), FinishedAt: metav1.NewTime(c.FinishedAt)}
}

// initialized reports whether every init container has succeeded (or, for
// a sidecar, runs).
func initialized(pod *corev1.Pod, st podState) bool {
	sb, ok := st.readySandbox()
	if !ok && len(pod.Spec.InitContainers) > 0 {
		return false
	}
	for _, ic := range pod.Spec.InitContainers {
		c, ok := latestIn(st, ic.Name, sb.ID)
		if !ok {
			return false
		}
		if isSidecar(ic) && c.State != cri.ContainerRunning || !isSidecar(ic) && (c.State != cri.ContainerExited || c.ExitCode != 0) {
			return false
		}
	}
	return true
}

// podPhase: Succeeded or Failed once nothing will run again; Running once
// every app container has started at least once and one runs or restarts;
// Pending before that.
func podPhase(pod *corev1.Pod, st podState, initDone bool) corev1.PodPhase {
	if p := terminalPhase(pod, st); p != "" {
		return p
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return pod.Status.Phase
	}
	if !initDone {
		return corev1.PodPending
	}
	for _, spec := range pod.Spec.Containers {
		if _, ok := st.latest(spec.Name); !ok {
			return corev1.PodPending
		}
	}
	return corev1.PodRunning
}

// setConditions sets the pod's conditions, keeping the transition time of
// those whose status stays.
func setConditions(s *corev1.PodStatus, pod *corev1.Pod, st podState, initDone bool, now time.Time) {
	_, sandboxReady := st.readySandbox()
	terminal := s.Phase == corev1.PodSucceeded || s.Phase == corev1.PodFailed
	old := slices.Clone(s.Conditions)
	status.SetCondition(s, status.Condition(old, corev1.PodReadyToStartContainers, sandboxReady && !terminal, "", "", now))
	status.SetCondition(s, status.Condition(old, corev1.PodInitialized, initDone || terminal, reasonIf(!initDone, "ContainersNotInitialized"), "", now))
	status.SetReadyConditions(pod, s, old, now)
}

func reasonIf(b bool, r string) string {
	if b {
		return r
	}
	return ""
}
