// Package status is the agent's status manager, modelled on kubelet's
// (pkg/kubelet/status): the one place that writes pod status to the API.
//
// The pod worker computes a pod's status from the runtime (a pure
// function in the agent) and hands it to SetPodStatus. The manager merges
// what the prober says (SetContainerReadiness, SetContainerStartup: a
// container with a readiness probe is ready only once its probe succeeds,
// one with a startup probe has started only once that probe succeeds),
// regenerates the ContainersReady and Ready conditions from the result,
// keeps the status as the base of the pod's next one (GetPodStatus,
// OldStatus), and writes it when it differs from what the API holds.
//
// It remembers the resourceVersion its own last write returned, so that an
// informer cache that has not yet seen that write neither makes it write
// the same status again nor sends it into a conflict. A static pod's
// status is held here and written to its mirror pod, when there is one.
//
// Everything is in memory: a restarted agent starts from the API's view.
package status
