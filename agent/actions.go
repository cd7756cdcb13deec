package agent

import (
	"time"

	corev1 "k8s.io/api/core/v1"

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
// ("" for kubelet's default, "Stopping container <name>").
type killRequest struct {
	id, name, message string
}

// podActions is what one sync of a pod does, in this order: kill, create
// the sandbox, start the next init container, start app containers.
type podActions struct {
	// killPod stops every container and the sandbox (deleted or finished pod).
	killPod bool
	// createSandbox makes a new sandbox with this attempt number.
	createSandbox  bool
	sandboxAttempt int
	kill           []killRequest
	// startInit is the init container to start next, -1 for none.
	startInit int
	// start are the app containers to start.
	start []int
	// backoff are containers waiting to restart, with the time left.
	backoff map[string]time.Duration
}

// changesRuntime reports whether applying the actions changes what the
// runtime holds for the pod.
func (p podActions) changesRuntime() bool {
	return p.killPod || p.createSandbox || len(p.kill) > 0 || p.startInit >= 0 || len(p.start) > 0
}

// computePodActions decides what a sync does, from the pod's spec, what
// the runtime holds and which running containers failed their liveness or
// startup probe (by runtime ID). It is pure: no runtime, no clock, no API.
func computePodActions(pod *corev1.Pod, st podState, now time.Time, bp backoffPolicy, unhealthy map[string]ProbeKind) podActions {
	a := podActions{startInit: -1, backoff: map[string]time.Duration{}}
	if pod.DeletionTimestamp != nil || isTerminal(pod, st) {
		a.killPod = true
		return a
	}
	sb, ok := st.readySandbox()
	if !ok {
		a.createSandbox = true
		if len(st.sandboxes) > 0 {
			a.sandboxAttempt = sandboxAttempt(st.sandboxes[0]) + 1
		}
		for _, c := range st.running() {
			a.kill = append(a.kill, killRequest{c.ID, c.Labels[cri.LabelContainerName], ""})
		}
		sb = cri.Sandbox{} // containers start in the new sandbox
	}
	if !a.planInit(pod, st, sb, now, bp, unhealthy) {
		return a
	}
	a.planApps(pod, st, sb, now, bp, unhealthy)
	return a
}

// planInit plans the init containers; it reports whether all are done (or,
// for sidecars, running) so that app containers may start.
func (a *podActions) planInit(pod *corev1.Pod, st podState, sb cri.Sandbox, now time.Time, bp backoffPolicy, unhealthy map[string]ProbeKind) bool {
	for i, ic := range pod.Spec.InitContainers {
		sidecar := isSidecar(ic)
		c, ok := latestIn(st, ic.Name, sb.ID)
		switch {
		case !ok:
			a.startInit = i
			return false
		case c.State == cri.ContainerRunning:
			if !sidecar {
				return false
			}
			a.killUnhealthy(c, ic.Name, corev1.RestartPolicyAlways, unhealthy)
		case c.State == cri.ContainerExited && c.ExitCode == 0 && !sidecar:
			continue
		default:
			a.restartLater(c, now, bp, func() { a.startInit = i })
			return false
		}
	}
	return true
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
				a.kill = append(a.kill, killRequest{c.ID, spec.Name, "Container " + spec.Name + " definition changed, will be restarted"})
			} else {
				a.killUnhealthy(c, spec.Name, pod.Spec.RestartPolicy, unhealthy)
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
// failed; its restart policy and back-off decide when it runs again.
func (a *podActions) killUnhealthy(c cri.Container, name string, policy corev1.RestartPolicy, unhealthy map[string]ProbeKind) {
	kind, ok := unhealthy[c.ID]
	if !ok {
		return
	}
	msg := "Container " + name + " failed " + kind.String() + " probe"
	if policy != corev1.RestartPolicyNever {
		msg += ", will be restarted"
	}
	a.kill = append(a.kill, killRequest{c.ID, name, msg})
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
