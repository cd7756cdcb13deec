// Package cri is nodeagent's container runtime interface: the shape of the
// Kubernetes CRI (sandboxes, containers, images, events, exec, attach,
// port-forward), as Go types rather than gRPC, with a containerd
// implementation (cri/containerd) and a stateful in-memory fake
// (cri/fake). One conformance suite (cri/conformance) runs against both.
// cri/crilog reads and writes the CRI log format.
//
// All state the agent needs after a restart lives in the runtime as labels
// on sandboxes and containers (LabelPodUID, ...), so that a restarted agent
// rebuilds its view by listing, and adopts what is running.
package cri
