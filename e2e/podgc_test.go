//go:build linux && e2e

package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// TestPodGCTerminatedThreshold: with --terminated-pod-gc-threshold=1 the
// server's pod GC deletes the oldest terminated pods (names break ties
// within a second) until one is left, and never a pod still pending.
func TestPodGCTerminatedThreshold(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent", "--terminated-pod-gc-threshold=1")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "default service account", func() error {
		_, errOut, err := k.run("", "get", "serviceaccount", "default")
		if err != nil {
			return fmt.Errorf("%v: %s", err, errOut)
		}
		return nil
	})
	for _, name := range []string{"done-1", "done-2", "done-3", "pending"} {
		k.ok(fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n  containers: [{name: c, image: %s}]\n",
			name, framework.TestImage()), "create", "-f", "-")
	}
	for _, name := range []string{"done-1", "done-2", "done-3"} {
		k.ok("", "patch", "pod", name, "--subresource=status", "--type=merge", "-p", `{"status":{"phase":"Succeeded"}}`)
	}
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "terminated pods above the threshold deleted", func() error {
		if out := squash(k.ok("", "get", "pods", "-o", "name")); out != "pod/done-3 pod/pending" {
			return fmt.Errorf("pods: %s", out)
		}
		return nil
	})
}
