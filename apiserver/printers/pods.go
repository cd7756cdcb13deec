package printers

import (
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nodeLostReason is the status.reason the node lifecycle controller gives
// pods of an unreachable node; kubectl shows such a pod, once it is being
// deleted, as Unknown.
const nodeLostReason = "NodeLost"

func podPrinter() Printer {
	return typed[*corev1.Pod]{
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
			column("Status", "The aggregate status of the containers in this pod."),
			column("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
			ageColumn(),
			wide(column("IP", corev1.PodStatus{}.SwaggerDoc()["podIP"])),
			wide(column("Node", corev1.PodSpec{}.SwaggerDoc()["nodeName"])),
			wide(column("Nominated Node", corev1.PodStatus{}.SwaggerDoc()["nominatedNodeName"])),
			wide(column("Readiness Gates", corev1.PodSpec{}.SwaggerDoc()["readinessGates"])),
		},
		cells:      podCells,
		conditions: podConditions,
	}
}

func podCells(p *corev1.Pod, now time.Time) []interface{} {
	s := summarizePod(p)
	return []interface{}{
		p.Name,
		fmt.Sprintf("%d/%d", s.ready, s.total),
		s.status,
		s.restarts.String(now),
		age(p.CreationTimestamp, now),
		orNone(podIP(p)),
		orNone(p.Spec.NodeName),
		orNone(p.Status.NominatedNodeName),
		readinessGates(p),
	}
}

// podConditions marks the row of a pod that ran to completion, as
// kube-apiserver does.
func podConditions(p *corev1.Pod) []metav1.TableRowCondition {
	var msg string
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		msg = "The pod has completed successfully."
	case corev1.PodFailed:
		msg = "The pod failed."
	default:
		return nil
	}
	return []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue,
		Reason: string(p.Status.Phase), Message: msg}}
}

// podSummary is what the READY, STATUS and RESTARTS columns show.
type podSummary struct {
	ready, total int
	status       string
	restarts     restarts
}

// summarizePod follows kube-apiserver's reading of a pod: the phase (or
// status.reason), overridden by the first init container that has not
// finished, else by the first regular container that is waiting or
// terminated; a pod being deleted is Terminating.
func summarizePod(p *corev1.Pod) podSummary {
	s := podSummary{total: len(p.Spec.Containers) + len(sidecars(p)), status: podPhaseReason(p)}
	var sidecarRestarts restarts
	initializing := s.initContainers(p, &sidecarRestarts)
	if !initializing || conditionTrue(p, corev1.PodInitialized) {
		// Once initialized, only sidecars count besides regular containers.
		s.restarts = sidecarRestarts
		s.containers(p)
	}
	if p.DeletionTimestamp != nil {
		switch {
		case p.Status.Reason == nodeLostReason:
			s.status = "Unknown"
		case p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed:
			s.status = "Terminating"
		}
	}
	return s
}

// podPhaseReason is the status before containers are looked at.
func podPhaseReason(p *corev1.Pod) string {
	reason := orDefault(p.Status.Reason, string(p.Status.Phase))
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			reason = corev1.PodReasonSchedulingGated
		}
	}
	return reason
}

// initContainers walks the init container statuses up to the first one
// that has not completed, setting the status to "Init:..." for it. It
// reports whether the pod is still initializing. Started sidecars (init
// containers with restartPolicy Always) count as ready containers.
func (s *podSummary) initContainers(p *corev1.Pod, sidecarRestarts *restarts) bool {
	side := sidecars(p)
	for i, cs := range p.Status.InitContainerStatuses {
		s.restarts.add(cs)
		if side[cs.Name] {
			sidecarRestarts.add(cs)
		}
		t := cs.State.Terminated
		switch {
		case t != nil && t.ExitCode == 0:
			continue
		case side[cs.Name] && cs.Started != nil && *cs.Started:
			if cs.Ready {
				s.ready++
			}
			continue
		case t != nil:
			s.status = "Init:" + terminatedReason(t)
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing":
			s.status = "Init:" + cs.State.Waiting.Reason
		default:
			s.status = fmt.Sprintf("Init:%d/%d", i, len(p.Spec.InitContainers))
		}
		return true
	}
	return false
}

// containers walks the regular container statuses from last to first: the
// first listed container that is waiting or terminated gives the status;
// running, ready containers are counted.
func (s *podSummary) containers(p *corev1.Pod) {
	running := false
	for i := len(p.Status.ContainerStatuses) - 1; i >= 0; i-- {
		cs := p.Status.ContainerStatuses[i]
		s.restarts.add(cs)
		if reason := containerReason(cs.State); reason != "" {
			s.status = reason
		} else if cs.Ready && cs.State.Running != nil {
			running = true
			s.ready++
		}
	}
	// A completed container next to a still running one: the pod runs.
	if s.status == "Completed" && running {
		s.status = "NotReady"
		if conditionTrue(p, corev1.PodReady) {
			s.status = "Running"
		}
	}
}

// containerReason is the status a waiting or terminated container gives
// its pod; "" for a running one.
func containerReason(st corev1.ContainerState) string {
	switch {
	case st.Waiting != nil && st.Waiting.Reason != "":
		return st.Waiting.Reason
	case st.Terminated != nil:
		return terminatedReason(st.Terminated)
	}
	return ""
}

// terminatedReason is "Completed", "Error", "OOMKilled"..., or when the
// runtime gave no reason "Signal:9" or "ExitCode:1".
func terminatedReason(t *corev1.ContainerStateTerminated) string {
	switch {
	case t.Reason != "":
		return t.Reason
	case t.Signal != 0:
		return fmt.Sprintf("Signal:%d", t.Signal)
	}
	return fmt.Sprintf("ExitCode:%d", t.ExitCode)
}

// sidecars are the init containers with restartPolicy Always, by name.
func sidecars(p *corev1.Pod) map[string]bool {
	out := map[string]bool{}
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			out[c.Name] = true
		}
	}
	return out
}

// conditionTrue reports whether the pod's condition t is True.
func conditionTrue(p *corev1.Pod, t corev1.PodConditionType) bool {
	c := podCondition(p, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// restarts sums restart counts and remembers the latest finish of a
// previous run.
type restarts struct {
	count int
	last  time.Time
}

func (r *restarts) add(cs corev1.ContainerStatus) {
	r.count += int(cs.RestartCount)
	if t := cs.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(r.last) {
		r.last = t.FinishedAt.Time
	}
}

// String is the RESTARTS cell: "3", or "3 (12s ago)" when the last restart
// time is known.
func (r restarts) String(now time.Time) string {
	if r.count == 0 || r.last.IsZero() {
		return strconv.Itoa(r.count)
	}
	return fmt.Sprintf("%d (%s ago)", r.count, age(metav1.NewTime(r.last), now))
}

// podIP is the pod's primary IP. kube-apiserver prints the first of podIPs,
// which its conversion keeps equal to podIP.
func podIP(p *corev1.Pod) string {
	if p.Status.PodIP != "" {
		return p.Status.PodIP
	}
	if len(p.Status.PodIPs) > 0 {
		return p.Status.PodIPs[0].IP
	}
	return ""
}

// readinessGates is "<none>", or how many of the pod's readiness gates
// have their condition True, as "1/2".
func readinessGates(p *corev1.Pod) string {
	if len(p.Spec.ReadinessGates) == 0 {
		return none
	}
	n := 0
	for _, g := range p.Spec.ReadinessGates {
		if conditionTrue(p, g.ConditionType) {
			n++
		}
	}
	return fmt.Sprintf("%d/%d", n, len(p.Spec.ReadinessGates))
}

// podCondition is the first condition of type t, or nil.
func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}
