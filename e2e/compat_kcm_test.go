//go:build e2e && compat

package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// A real kube-controller-manager (NODEAGENT_KUBE_CONTROLLER_MANAGER, built
// by `make compat`) runs the Deployment and ReplicaSet controllers against
// the bundled server, which runs the rest of its own (--controllers turns
// its two off, as a user who brings their own controller manager would):
// it wins the leader election on a coordination.k8s.io Lease, and a
// Deployment made with kubectl gets its ReplicaSet and pods from it, scales
// and is deleted with them by the server's garbage collector.
func TestCompatRealKubeControllerManager(t *testing.T) {
	bin := os.Getenv("NODEAGENT_KUBE_CONTROLLER_MANAGER")
	if bin == "" {
		t.Fatal("NODEAGENT_KUBE_CONTROLLER_MANAGER names no kube-controller-manager binary; run `make compat`")
	}
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent", "--controllers=*,-deployment-controller,-replicaset-controller")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	framework.StartProcessOf(t, node, bin, "kube-controller-manager", "--kubeconfig", srv.Kubeconfig(),
		"--controllers=deployment-controller,replicaset-controller", "--leader-elect=true",
		"--bind-address=127.0.0.1", "--secure-port=10257", "--v=2")
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "kube-controller-manager leads", func() error {
		holder, _, err := k.run("", "get", "lease", "-n", "kube-system", "kube-controller-manager", "-o", "jsonpath={.spec.holderIdentity}")
		if err != nil || holder == "" {
			return fmt.Errorf("no holder yet: %q %v", holder, err)
		}
		return nil
	})
	k.ok("", "create", "deployment", "web", "--image=127.0.0.1:5000/nodeagent/testserver:v1", "--replicas=2")
	pods := func(want int) func() error {
		return func() error {
			out := k.ok("", "get", "pods", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.metadata.ownerReferences[0].kind}{\" \"}{end}")
			if got := strings.Fields(out); len(got) != want || (want > 0 && got[0] != "ReplicaSet") {
				return fmt.Errorf("pods of web owned by: %q, want %d ReplicaSet", out, want)
			}
			return nil
		}
	}
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "the ReplicaSet's two pods", pods(2))
	owner := k.ok("", "get", "rs", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}")
	if owner != "Deployment/web" {
		t.Errorf("the ReplicaSet's owner: %q", owner)
	}
	// Who wrote them: the server records the writer's user agent as the
	// field manager. The ReplicaSet is kube-controller-manager's alone; the
	// pods were made by it (the bundled scheduler then writes their
	// PodScheduled condition: there is no node).
	rsManagers := k.ok("", "get", "rs", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.managedFields[*].manager}")
	if !strings.HasPrefix(rsManagers, "kube-controller-manager") || strings.Contains(rsManagers, "nodeagent") {
		t.Errorf("the ReplicaSet written by %q, want kube-controller-manager alone", rsManagers)
	}
	podManagers := k.ok("", "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.managedFields[0].manager}")
	for _, m := range strings.Fields(podManagers) {
		if !strings.HasPrefix(m, "kube-controller-manager") {
			t.Errorf("pods made by %q, want kube-controller-manager", podManagers)
		}
	}
	k.ok("", "scale", "deployment", "web", "--replicas=3")
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "three pods after the scale", pods(3))
	k.ok("", "delete", "deployment", "web")
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "the ReplicaSet and pods go with the Deployment", func() error {
		if out := k.ok("", "get", "rs,pods", "-l", "app=web", "-o", "name"); out != "" {
			return fmt.Errorf("left: %s", out)
		}
		return nil
	})
}
