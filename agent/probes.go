package agent

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	agentmetrics "github.com/nodeagent/nodeagent/agent/metrics"
	"github.com/nodeagent/nodeagent/agent/prober"
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
// New wires agent/prober's Manager (newProber) unless WithProber gives
// another (a FakeProber in tests).

// The probe kinds, results and updates are agent/prober's.
type (
	ProbeKind   = prober.Kind
	ProbeResult = prober.Result
	ProbeUpdate = prober.Update
)

const (
	ProbeLiveness  = prober.Liveness
	ProbeReadiness = prober.Readiness
	ProbeStartup   = prober.Startup

	// ProbeUnknown: no verdict yet (or no such probe).
	ProbeUnknown = prober.Unknown
	ProbeSuccess = prober.Success
	// ProbeFailure: the probe failed failureThreshold times in a row.
	ProbeFailure = prober.Failure
)

var _ Prober = (*prober.Manager)(nil)

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
	// Stop ends every probe and waits for them.
	Stop()
}

// WithProber wires a prober into the agent.
func WithProber(p Prober) Option { return func(a *Agent) { a.prober = p } }

// newProber is agent/prober's Manager: exec probes through the runtime,
// the others from the agent's network namespace (the node's) to the pod's
// IP, containers' states from the status manager (bound late: it is made
// after the prober), kubelet's events and probe metrics.
func (a *Agent) newProber() (*prober.Manager, error) {
	return prober.New(prober.Config{
		Exec:     a.rt,
		Status:   prober.StatusFunc(func(uid types.UID) (corev1.PodStatus, bool) { return a.statusManager.GetPodStatus(uid) }),
		Dial:     prober.NodeDialer(),
		Recorder: eventRecorder{a},
		Clock:    a.clock,
		Log:      a.log.With("component", "prober"),
		Metrics:  probeMetrics{a.metrics},
	})
}

// probeMetrics reports probes to the agent's metrics (/metrics/probes).
type probeMetrics struct{ m *agentmetrics.Metrics }

func (p probeMetrics) ObserveProbe(pod *corev1.Pod, container string, kind ProbeKind, res ProbeResult, took time.Duration) {
	p.m.ObserveProbe(probeTarget(pod, container, kind), metricsResult(res), took)
}

func (p probeMetrics) ForgetProbe(pod *corev1.Pod, container string, kind ProbeKind) {
	p.m.ForgetProbe(probeTarget(pod, container, kind))
}

func probeTarget(pod *corev1.Pod, container string, kind ProbeKind) agentmetrics.ProbeTarget {
	return agentmetrics.ProbeTarget{Type: agentmetrics.ProbeType(kind.String()), Namespace: pod.Namespace, Pod: pod.Name,
		PodUID: pod.UID, Container: container}
}

func metricsResult(r ProbeResult) agentmetrics.ProbeResult {
	switch r {
	case ProbeSuccess:
		return agentmetrics.ProbeSuccessful
	case ProbeFailure:
		return agentmetrics.ProbeFailed
	}
	return agentmetrics.ProbeUnknown
}

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

// probeView is what the prober says of the pod's running containers, for
// computePodActions: which failed their liveness or startup probe, and
// which have a startup probe that has not succeeded yet.
func (a *Agent) probeView(pod *corev1.Pod, st podState) probeView {
	v := probeView{unhealthy: map[string]ProbeKind{}, notStarted: map[string]bool{}}
	for _, c := range st.running() {
		id := statusContainerID(c)
		switch {
		case a.prober.Result(ProbeLiveness, id) == ProbeFailure:
			v.unhealthy[c.ID] = ProbeLiveness
		case a.prober.Result(ProbeStartup, id) == ProbeFailure:
			v.unhealthy[c.ID] = ProbeStartup
		}
		spec := containerSpec(pod, c.Labels[cri.LabelContainerName])
		if spec != nil && spec.StartupProbe != nil && a.prober.Result(ProbeStartup, id) != ProbeSuccess {
			v.notStarted[c.ID] = true
		}
	}
	return v
}

// containerSpec finds a container of the pod by name, among its init and
// app containers; nil when it has none of that name.
func containerSpec(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}
