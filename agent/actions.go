package agent

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/lifecycle"
	"github.com/nodeagent/nodeagent/agent/prober"
	"github.com/nodeagent/nodeagent/cri"
)

// backoffPolicy is CrashLoopBackOff: a container that exited waits initial
// before its first restart, twice as long before each next one, at most max;
// one that ran for resetAfter starts over at initial.
type backoffPolicy struct {
	initial, max, resetAfter time.Duration
}

var defaultBackoff = backoffPolicy{initial: 10 * time.Second, max: 5 * time.Minute, resetAfter: 10 * time.Minute}

// delay is how long the container, whose latest instance is c, waits
// after exiting before it may start again.
func (b backoffPolicy) delay(c cri.Container) time.Duration {
	if !c.StartedAt.IsZero() && c.FinishedAt.Sub(c.StartedAt) >= b.resetAfter {
		return b.initial
	}
	d := b.initial
	for i := 0; i < attempt(c) && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// killRequest names a container to stop; message is the Killing event's
// ("" for kubelet's default, "Stopping container <name>"); reason says
// whether a probe's own terminationGracePeriodSeconds applies.
type killRequest struct {
	id, name, message string
	reason            lifecycle.KillReason
}

// podActions is what one sync of a pod does, in this order: kill, create
// the sandbox, start init containers, start app containers.
type podActions struct {
	// killPod stops every container and the sandbox (deleted or finished pod).
	killPod bool
	// deadlineExceeded: the pod ran past its activeDeadlineSeconds; it is
	// killed (killPod) and failed.
	deadlineExceeded bool
	// createSandbox makes a new sandbox with this attempt number.
	createSandbox  bool
	sandboxAttempt int
	kill           []killRequest
	// startInit are the init containers to start, in order.
	startInit []int
	// start are the app containers to start.
	start []int
	// backoff are containers waiting to restart, with the time left.
	backoff map[string]time.Duration
}

// changesRuntime reports whether applying the actions changes what the
// runtime holds for the pod.
func (p podActions) changesRuntime() bool {
	return p.killPod || p.createSandbox || len(p.kill) > 0 || len(p.startInit) > 0 || len(p.start) > 0
}

// probeView is what the prober says of the pod's running containers, by
// runtime ID.
type probeView struct {
	// unhealthy: failed their liveness or startup probe, and which.
	unhealthy map[string]ProbeKind
	// notStarted: have a startup probe that has not succeeded yet.
	notStarted map[string]bool
}

// computePodActions decides what a sync does, from the pod (with the
// status it was last given), what the runtime holds and what the prober
// says. It is pure: no runtime, no clock, no API.
func computePodActions(pod *corev1.Pod, st podState, now time.Time, bp backoffPolicy, probes probeView) podActions {
	a := podActions{backoff: map[string]time.Duration{}}
	if pod.DeletionTimestamp != nil || isTerminal(pod, st) {
		a.killPod = true
		return a
	}
	if lifecycle.PastActiveDeadline(pod, pod.Status.StartTime, now) {
		a.killPod, a.deadlineExceeded = true, true
		return a
	}
	sb, ok := st.readySandbox()
	if !ok {
		a.createSandbox = true
		if len(st.sandboxes) > 0 {
			a.sandboxAttempt = sandboxAttempt(st.sandboxes[0]) + 1
		}
		for _, c := range st.running() {
			a.kill = append(a.kill, killRequest{id: c.ID, name: c.Labels[cri.LabelContainerName]})
		}
		sb = cri.Sandbox{} // containers start in the new sandbox
	}
	if !a.planInit(pod, st, sb, now, bp, probes) {
		return a
	}
	a.planApps(pod, st, sb, now, bp, probes.unhealthy)
	return a
}

// planInit plans the init containers (lifecycle.PlanInit: one at a time,
// each sidecar gated by its startup probe); it reports whether the pod has
// initialized, so that app containers may run.
func (a *podActions) planInit(pod *corev1.Pod, st podState, sb cri.Sandbox, now time.Time, bp backoffPolicy, probes probeView) bool {
	inits := make([]lifecycle.InitStatus, len(pod.Spec.InitContainers))
	latest := make([]cri.Container, len(inits))
	for i, ic := range pod.Spec.InitContainers {
		c, ok := latestIn(st, ic.Name, sb.ID)
		latest[i], inits[i] = c, initStatus(ic, c, ok, probes)
	}
	plan := lifecycle.PlanInit(inits, appsCreated(pod, st, sb))
	for _, i := range plan.Kill {
		a.killUnhealthy(latest[i], pod.Spec.InitContainers[i].Name, true, false, probes.unhealthy)
	}
	for _, i := range plan.Start {
		if inits[i].State == lifecycle.InitExited {
			a.restartLater(latest[i], now, bp, func() { a.startInit = append(a.startInit, i) })
		} else {
			a.startInit = append(a.startInit, i)
		}
	}
	return plan.Initialized
}

// initStatus is an init container's newest instance in the sandbox as
// PlanInit sees it.
func initStatus(ic corev1.Container, c cri.Container, ok bool, probes probeView) lifecycle.InitStatus {
	s := lifecycle.InitStatus{Sidecar: isSidecar(ic)}
	switch {
	case !ok:
		s.State = lifecycle.InitAbsent
	case c.State == cri.ContainerRunning:
		_, failed := probes.unhealthy[c.ID]
		s.State, s.Started, s.ProbeFailed = lifecycle.InitRunning, !probes.notStarted[c.ID], failed
	case c.State == cri.ContainerExited:
		s.State, s.ExitCode = lifecycle.InitExited, c.ExitCode
	default:
		s.State = lifecycle.InitCreated
	}
	return s
}

// appsCreated says whether an app container was created in the sandbox:
// the pod initialized before, as kubelet's hasAnyRegularContainerCreated.
func appsCreated(pod *corev1.Pod, st podState, sb cri.Sandbox) bool {
	for _, spec := range pod.Spec.Containers {
		if _, ok := latestIn(st, spec.Name, sb.ID); ok {
			return true
		}
	}
	return false
}

// planApps plans the app containers.
func (a *podActions) planApps(pod *corev1.Pod, st podState, sb cri.Sandbox, now time.Time, bp backoffPolicy, unhealthy map[string]ProbeKind) {
	for i, spec := range pod.Spec.Containers {
		c, ok := latestIn(st, spec.Name, sb.ID)
		if !ok {
			if prev, had := st.latest(spec.Name); !had || shouldRestart(pod.Spec.RestartPolicy, prev) {
				a.start = append(a.start, i)
			}
			continue
		}
		switch c.State {
		case cri.ContainerRunning:
			if c.Image != spec.Image {
				a.kill = append(a.kill, killRequest{id: c.ID, name: spec.Name, message: "Container " + spec.Name + " definition changed, will be restarted"})
			} else {
				a.killUnhealthy(c, spec.Name, false, pod.Spec.RestartPolicy != corev1.RestartPolicyNever, unhealthy)
			}
		case cri.ContainerExited:
			if shouldRestart(pod.Spec.RestartPolicy, c) {
				i := i
				a.restartLater(c, now, bp, func() { a.start = append(a.start, i) })
			}
		default: // created but never started (the agent died in between)
			a.start = append(a.start, i)
		}
	}
}

// killUnhealthy kills a running container whose liveness or startup probe
// failed; its restart policy and back-off decide when it runs again. A
// sidecar's message says "Init container" and nothing of a restart, as
// kubelet's.
func (a *podActions) killUnhealthy(c cri.Container, name string, sidecar, restart bool, unhealthy map[string]ProbeKind) {
	kind, ok := unhealthy[c.ID]
	if !ok {
		return
	}
	reason := lifecycle.KillLivenessProbe
	if kind == ProbeStartup {
		reason = lifecycle.KillStartupProbe
	}
	a.kill = append(a.kill, killRequest{c.ID, name, prober.KillMessage(name, kind, sidecar, restart), reason})
}

// restartLater starts the container now if its back-off has passed, and
// records the time left otherwise.
func (a *podActions) restartLater(c cri.Container, now time.Time, bp backoffPolicy, start func()) {
	left := c.FinishedAt.Add(bp.delay(c)).Sub(now)
	if left <= 0 {
		start()
		return
	}
	a.backoff[c.Labels[cri.LabelContainerName]] = left
}

// latestIn returns the newest instance of name in the sandbox sandboxID.
func latestIn(st podState, name, sandboxID string) (cri.Container, bool) {
	if sandboxID == "" {
		return cri.Container{}, false
	}
	for _, c := range st.instances(name) {
		if c.SandboxID == sandboxID {
			return c, true
		}
	}
	return cri.Container{}, false
}

func shouldRestart(policy corev1.RestartPolicy, c cri.Container) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return c.State == cri.ContainerExited && c.ExitCode != 0
	}
	return true
}

func isSidecar(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// isTerminal reports whether the pod has finished for good: the API says so,
// or no container will run again under its restart policy.
func isTerminal(pod *corev1.Pod, st podState) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return true
	}
	return terminalPhase(pod, st) != ""
}

// terminalPhase returns Succeeded or Failed when the pod is done, else "".
func terminalPhase(pod *corev1.Pod, st podState) corev1.PodPhase {
	policy := pod.Spec.RestartPolicy
	if policy == corev1.RestartPolicyAlways || policy == "" {
		return ""
	}
	for _, ic := range pod.Spec.InitContainers {
		if c, ok := st.latest(ic.Name); ok && !isSidecar(ic) && c.State == cri.ContainerExited && c.ExitCode != 0 && policy == corev1.RestartPolicyNever {
			return corev1.PodFailed
		}
	}
	failed := false
	for _, spec := range pod.Spec.Containers {
		c, ok := st.latest(spec.Name)
		if !ok || c.State != cri.ContainerExited || shouldRestart(policy, c) {
			return ""
		}
		failed = failed || c.ExitCode != 0
	}
	if failed {
		return corev1.PodFailed
	}
	return corev1.PodSucceeded
}
