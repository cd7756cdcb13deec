package prober

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
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
		out[i] = expand(a, vars)
	}
	return out
}

func expand(s string, vars map[string]string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		switch s[0] {
		case '$':
			b.WriteByte('$')
			s = s[1:]
		case '(':
			end := strings.IndexByte(s, ')')
			if end < 0 {
				b.WriteString("$" + s)
				return b.String()
			}
			name := s[1:end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			s = s[end+1:]
		default:
			b.WriteByte('$')
		}
	}
}
