//go:build linux && e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// TestSetsAdoptAfterOrphanDelete: `kubectl delete --cascade=orphan` of
// setsYAML's DaemonSet and StatefulSet db leaves their pods and revisions;
// applied again, each set adopts both through the API server's patches
// and keeps the very pods it had, at the same revision (no rollout).
func TestSetsAdoptAfterOrphanDelete(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(setsYAML, "apply", "-f", "-")
	sets := map[string]string{"daemonset/agent": "app=agent", "statefulset/db": "app=db"}
	before := map[string]string{}
	for set, sel := range sets {
		l.k.ok("", "rollout", "status", set, "--timeout=120s")
		before[set] = l.k.ok("", "get", "pods", "-l", sel, "-o", "jsonpath={.items[*].metadata.uid}")
		l.k.ok("", "delete", set, "--cascade=orphan")
	}
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, "pods and revisions orphaned", func() error {
		for _, sel := range sets {
			for _, kind := range []string{"pods", "controllerrevisions"} {
				out := l.k.ok("", "get", kind, "-l", sel, "-o", "jsonpath={range .items[*]}{.metadata.name}={.metadata.ownerReferences}{\"\\n\"}{end}")
				if strings.TrimSpace(out) == "" || strings.Contains(out, "uid") {
					return fmt.Errorf("%s %s: %q", kind, sel, out)
				}
			}
		}
		return nil
	})
	l.k.ok(setsYAML, "apply", "-f", "-")
	for set, sel := range sets {
		uid := l.k.ok("", "get", set, "-o", "jsonpath={.metadata.uid}")
		framework.Eventually(t, 60*time.Second, 200*time.Millisecond, set+" adopts its pod and revision", func() error {
			for _, kind := range []string{"pods", "controllerrevisions"} {
				owners := l.k.ok("", "get", kind, "-l", sel, "-o", "jsonpath={.items[*].metadata.ownerReferences[0].uid}")
				if f := strings.Fields(owners); len(f) == 0 || strings.Count(owners, uid) != len(f) {
					return fmt.Errorf("%s owned by %q, want %s", kind, owners, uid)
				}
			}
			return nil
		})
		l.k.ok("", "rollout", "status", set, "--timeout=60s")
		if got := l.k.ok("", "get", "pods", "-l", sel, "-o", "jsonpath={.items[*].metadata.uid}"); got != before[set] {
			t.Errorf("%s: pods %s, want the kept %s", set, got, before[set])
		}
		if n := l.k.ok("", "get", set, "-o", "jsonpath={.status.collisionCount}"); n != "" && n != "0" {
			t.Errorf("%s: collision count %s", set, n)
		}
	}
}
