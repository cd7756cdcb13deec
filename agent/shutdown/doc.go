// Package shutdown is kubelet's graceful node shutdown: on a systemd host
// the agent holds a logind "delay" inhibitor lock on shutdown, and when
// logind announces the shutdown (PrepareForShutdown(true)) it terminates
// the pods in two groups, ordinary pods first, then the critical ones
// (priority at least system-cluster-critical's), each group within its
// share of --shutdown-grace-period (the critical pods get
// --shutdown-grace-period-critical-pods, the others the rest). A pod's
// status says Failed, reason Terminated, "Pod was terminated in response
// to imminent node shutdown.", with a DisruptionTarget condition; from the
// announcement on, the node reports Ready=False ("node is shutting down").
// Then the lock is released and the shutdown goes on. If logind cancels
// the shutdown (PrepareForShutdown(false)), the lock is taken again.
//
// What it does to the host: one file descriptor, the lock, which logind
// drops when the agent exits. Nothing is written to logind's config: when
// its InhibitDelayMaxSec is shorter than the grace period, the agent says
// so and the shorter delay applies (kubelet rewrites logind's config).
//
// The logind side (Inhibitor) is an interface with a D-Bus implementation
// (logind.go) and a stateful fake (fake.go); groups.go is the pure split
// of pods into groups.
package shutdown
