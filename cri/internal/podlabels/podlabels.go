// Package podlabels computes the labels a runtime reports for sandboxes and
// containers, so that every cri.Runtime (containerd and the fake) reports the
// same set for the same config.
package podlabels

import (
	"maps"

	"github.com/nodeagent/nodeagent/cri"
)

// Kinds, the values of cri.LabelKind.
const (
	KindSandbox   = "sandbox"
	KindContainer = "container"
)

// podIdentity are the sandbox labels a container inherits.
var podIdentity = []string{cri.LabelPodUID, cri.LabelPodNamespace, cri.LabelPodName}

// Sandbox returns the labels of a sandbox made from cfg: cfg.Labels plus
// cri.LabelKind.
func Sandbox(cfg cri.SandboxConfig) map[string]string {
	out := maps.Clone(cfg.Labels)
	if out == nil {
		out = map[string]string{}
	}
	out[cri.LabelKind] = KindSandbox
	return out
}

// Container returns the labels of a container made from cfg in a sandbox
// labelled sandbox: cfg.Labels, the pod's identity labels copied from the
// sandbox when cfg does not set them, cri.LabelContainerName and
// cri.LabelKind.
func Container(sandbox map[string]string, cfg cri.ContainerConfig) map[string]string {
	out := maps.Clone(cfg.Labels)
	if out == nil {
		out = map[string]string{}
	}
	for _, k := range podIdentity {
		if _, set := out[k]; !set && sandbox[k] != "" {
			out[k] = sandbox[k]
		}
	}
	out[cri.LabelContainerName] = cfg.Name
	out[cri.LabelKind] = KindContainer
	return out
}

// Match reports whether labels include every label in filter.
func Match(labels, filter map[string]string) bool {
	for k, v := range filter {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
