package agent

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/cri"
)

// The seam to a prober (agent/prober): the agent tells it which pods run
// here (AddPod, RemovePod); the prober finds each container's ID and state
// in the status manager (status.Manager.GetPodStatus), as kubelet's prober
// workers do, probes, and reports every change of a result on Updates.
// The agent then
//   - hands readiness and startup results to the status manager
//     (SetContainerReadiness, SetContainerStartup), which writes the
//     container's ready/started flags and the pod's conditions at once;
//   - wakes the pod's worker on a startup change or a liveness failure:
//     the worker asks Result about each running container, and kills one
//     whose liveness or startup probe failed ("Killing" event: "Container
//     c failed liveness probe, will be restarted"); its restart policy and
//     back-off then restart it, as kubelet does.
// Container IDs are as the pod status shows them: containerd://<id>.
// Without a prober (no WithProber) no probe runs, and a running container
// is started and ready.

// ProbeKind names a probe.
type ProbeKind uint8

const (
	ProbeLiveness ProbeKind = iota
	ProbeReadiness
	ProbeStartup
)

func (k ProbeKind) String() string {
	switch k {
	case ProbeLiveness:
		return "liveness"
	case ProbeReadiness:
		return "readiness"
	case ProbeStartup:
		return "startup"
	}
	return "unknown"
}

// ProbeResult is a probe's latest verdict.
type ProbeResult uint8

const (
	// ProbeUnknown: no verdict yet (or no such probe).
	ProbeUnknown ProbeResult = iota
	ProbeSuccess
	// ProbeFailure: the probe failed failureThreshold times in a row.
	ProbeFailure
)

// ProbeUpdate is a changed result of one container's probe.
type ProbeUpdate struct {
	PodUID      types.UID
	ContainerID string // containerd://<id>
	Kind        ProbeKind
	Result      ProbeResult
}

// Prober runs the probes of the node's pods.
type Prober interface {
	// AddPod starts probing the pod's containers that have probes; adding
	// a pod it probes already changes nothing.
	AddPod(pod *corev1.Pod)
	// RemovePod stops probing the pod and forgets its results.
	RemovePod(uid types.UID)
	// Result is the latest result of the container's probe of kind.
	Result(kind ProbeKind, containerID string) ProbeResult
	// Updates delivers every changed result, until the prober stops.
	Updates() <-chan ProbeUpdate
}

// WithProber wires a prober into the agent.
func WithProber(p Prober) Option { return func(a *Agent) { a.prober = p } }

// noProber is the agent without a prober: nothing is probed.
type noProber struct{}

func (noProber) AddPod(*corev1.Pod)                   {}
func (noProber) RemovePod(types.UID)                  {}
func (noProber) Result(ProbeKind, string) ProbeResult { return ProbeUnknown }
func (noProber) Updates() <-chan ProbeUpdate          { return nil }

// statusContainerID is a container's ID as the pod status shows it.
func statusContainerID(c cri.Container) string { return "containerd://" + c.ID }

// runProbeUpdates passes the prober's results on until ctx ends.
func (a *Agent) runProbeUpdates(ctx context.Context) {
	updates := a.prober.Updates()
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-updates:
			if !ok {
				return
			}
			a.onProbeUpdate(u)
		}
	}
}

// onProbeUpdate acts on one changed result, as kubelet's sync loop does.
func (a *Agent) onProbeUpdate(u ProbeUpdate) {
	switch u.Kind {
	case ProbeReadiness:
		a.statusManager.SetContainerReadiness(u.PodUID, u.ContainerID, u.Result == ProbeSuccess)
	case ProbeStartup:
		a.statusManager.SetContainerStartup(u.PodUID, u.ContainerID, u.Result == ProbeSuccess)
		a.enqueueUID(string(u.PodUID))
	case ProbeLiveness:
		if u.Result == ProbeFailure {
			a.enqueueUID(string(u.PodUID))
		}
	}
}

// unhealthy maps the pod's running containers whose liveness or startup
// probe failed to the probe that failed, for computePodActions.
func (a *Agent) unhealthy(st podState) map[string]ProbeKind {
	out := map[string]ProbeKind{}
	for _, c := range st.running() {
		id := statusContainerID(c)
		switch {
		case a.prober.Result(ProbeLiveness, id) == ProbeFailure:
			out[c.ID] = ProbeLiveness
		case a.prober.Result(ProbeStartup, id) == ProbeFailure:
			out[c.ID] = ProbeStartup
		}
	}
	return out
}
