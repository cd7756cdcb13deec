// Package expansion expands $(VAR) references as Kubernetes does in a
// container's command, args, env values and volumeMounts' subPathExpr.
package expansion

import "strings"

// Expand replaces each $(VAR) in s with vars[VAR]. $$ is a literal $; a
// reference to a variable not in vars, or an unclosed $(, stays as
// written (kube's third_party/forked/golang/expansion semantics).
func Expand(s string, vars map[string]string) string {
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
