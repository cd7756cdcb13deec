package prober

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/api/expansion"
)

// expandStatic replaces $(VAR) in each argument with the value written in
// the container's env entry VAR, as kubelet's
// ExpandContainerCommandOnlyStatic does: exec probes see no resolved
// valueFrom (such a variable expands to ""), no envFrom. $$ is a literal $;
// a reference to a variable not in env, or an unclosed $(, stays as
// written.
func expandStatic(args []string, env []corev1.EnvVar) []string {
	vars := map[string]string{}
	for _, e := range env {
		vars[e.Name] = e.Value
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = expansion.Expand(a, vars)
	}
	return out
}
