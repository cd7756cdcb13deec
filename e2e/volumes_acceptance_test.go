//go:build linux && e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// statefulPod is a StatefulSet's pod as a new user writes one by hand: the
// claim "state" of the default class, a line appended at each start.
func statefulPod() string {
	return claimPod("db-0", "state", false, "echo started >> /data/starts && sleep 3600")
}

// podFile reads a file of the pod's claim through its publish on the node
// (a standalone agent has no serving certificate for kubectl exec).
func (l *agentLab) podFile(t *testing.T, pod, pv, name, want string) {
	t.Helper()
	uid := l.jsonpath("pod/"+pod, "{.metadata.uid}")
	f := filepath.Join(l.dirs.Root, "pods", uid, "volumes", "kubernetes.io~csi", pv, "mount", name)
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, name+" on the pod's volume", func() error {
		if b, err := os.ReadFile(f); err != nil || string(b) != want {
			return fmt.Errorf("%q %v", b, err)
		}
		return nil
	})
}

// Acceptance, as a new user would try it: a StatefulSet-style pod (one
// claim of the default class, the pod deleted and created again with the
// same claim) keeps its data across the pod's deletion and across kill -9
// of the agent, with one format only; deleting the pod and the claim
// leaves no loop device, mount, staging directory or backing file.
func TestStatefulPodKeepsDataAcrossAgentKill9(t *testing.T) {
	l, agent := splitAgentLab(t)
	l.k.ok(defaultClassClaim("state"), "create", "-f", "-")
	l.k.ok(statefulPod(), "create", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/db-0", "{.status.phase}", "Running")
	pv := l.jsonpath("pvc/state", "{.spec.volumeName}")
	l.podFile(t, "db-0", pv, "starts", "started\n")

	agent.Kill9()
	agent.Start()
	l.waitFor(t, 60*time.Second, "node/"+nodeName, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	l.podFile(t, "db-0", pv, "starts", "started\n") // the container was not started again

	l.deletePod(t, "db-0")
	l.k.ok(statefulPod(), "create", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/db-0", "{.status.phase}", "Running")
	l.podFile(t, "db-0", pv, "starts", "started\nstarted\n")

	agent.Kill9()
	agent.Start()
	l.deletePod(t, "db-0")
	l.k.ok(statefulPod(), "create", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/db-0", "{.status.phase}", "Running")
	l.podFile(t, "db-0", pv, "starts", "started\nstarted\nstarted\n")
	if n := strings.Count(agent.Log(), "formatting a volume"); n != 1 {
		t.Errorf("formatted %d times, want once", n)
	}

	l.deletePod(t, "db-0")
	l.k.ok("", "delete", "pvc", "state", "--wait=true", "--timeout=60s")
	waitNoVolumes(t, l.k)
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "nothing left", l.volumesLeft)
	if left := l.backingFilesOf(pv); len(left) != 0 {
		t.Errorf("backing files left: %v", left)
	}
}
