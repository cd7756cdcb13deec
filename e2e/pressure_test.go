//go:build linux && e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

const pressureNode = `apiVersion: v1
kind: Node
metadata: {name: pressure-node, labels: {kubernetes.io/hostname: pressure-node}}
`

const pressurePod = `apiVersion: v1
kind: Pod
metadata: {name: waiter}
spec:
  containers: [{name: c, image: 127.0.0.1:5000/nodeagent/testserver:v1}]
`

// A node that reports DiskPressure gets kube's disk-pressure taint from
// the node lifecycle controller, and a new pod stays Pending with kube's
// FailedScheduling message; once the pressure is gone the taint goes and
// the pod is scheduled there. The node is one the admin registers and
// whose status the test writes, as its agent would (no agent runs, so
// that nothing else writes its conditions).
func TestDiskPressureTaintKeepsPodsOff(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	k.ok(pressureNode, "create", "-f", "-")
	report := func(disk string) {
		t.Helper()
		now := time.Now().UTC().Format(time.RFC3339)
		k.ok("", "patch", "node", "pressure-node", "--subresource=status", "--type=merge", "-p", fmt.Sprintf(
			`{"status":{"capacity":{"cpu":"2","memory":"4Gi","pods":"110"},"allocatable":{"cpu":"2","memory":"4Gi","pods":"110"},`+
				`"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","lastHeartbeatTime":"%s","lastTransitionTime":"%s"},`+
				`{"type":"DiskPressure","status":"%s","reason":"KubeletHasDiskPressure","lastHeartbeatTime":"%s","lastTransitionTime":"%s"}]}}`,
			now, now, disk, now, now))
	}
	taints := func() string { return k.ok("", "get", "node", "pressure-node", "-o", "jsonpath={.spec.taints[*].key}") }

	report("True")
	framework.Eventually(t, 20*time.Second, 100*time.Millisecond, "the disk-pressure taint", func() error {
		if got := taints(); got != "node.kubernetes.io/disk-pressure" {
			return fmt.Errorf("taints %q", got)
		}
		return nil
	})
	k.ok(pressurePod, "create", "-f", "-")
	want := "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }."
	framework.Eventually(t, 20*time.Second, 100*time.Millisecond, "FailedScheduling", func() error {
		out := k.ok("", "get", "events", "--field-selector", "involvedObject.name=waiter,reason=FailedScheduling",
			"-o", "jsonpath={.items[*].message}")
		if !strings.Contains(out, want) {
			return fmt.Errorf("events %q", out)
		}
		return nil
	})
	if got := k.ok("", "get", "pod", "waiter", "-o", "jsonpath={.status.phase} {.spec.nodeName} {.status.conditions[0].reason}"); got != "Pending  Unschedulable" {
		t.Fatalf("pod under pressure: %q", got)
	}

	report("False")
	framework.Eventually(t, 20*time.Second, 100*time.Millisecond, "the pod scheduled", func() error {
		if got := k.ok("", "get", "pod", "waiter", "-o", "jsonpath={.spec.nodeName}"); got != "pressure-node" {
			return fmt.Errorf("on %q (taints %q)", got, taints())
		}
		return nil
	})
	if got := taints(); got != "" {
		t.Errorf("taints left: %q", got)
	}
}

// PriorityClasses through kubectl: the two system classes are there, a
// class can be made and used, and a pod naming a missing one is refused
// with kube's message.
func TestPriorityClassesWithKubectl(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	lines := strings.Split(strings.TrimSpace(k.ok("", "get", "priorityclass")), "\n")
	if len(lines) != 3 || squash(lines[0]) != "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY" ||
		!strings.HasPrefix(squash(lines[1]), "system-cluster-critical 2000000000 false ") ||
		!strings.HasPrefix(squash(lines[2]), "system-node-critical 2000001000 false ") {
		t.Fatalf("kubectl get priorityclass:\n%s", strings.Join(lines, "\n"))
	}
	k.ok("", "create", "priorityclass", "high", "--value=1000", "--description=tests")
	if got := k.fails("", "create", "priorityclass", "too-high", "--value=1000000001"); !strings.Contains(got,
		"value: Forbidden: maximum allowed value of a user defined priority is 1000000000") {
		t.Errorf("too high a value: %s", got)
	}
	k.ok(strings.Replace(pressurePod, "spec:\n", "spec:\n  priorityClassName: high\n", 1), "create", "-f", "-")
	if got := k.ok("", "get", "pod", "waiter", "-o", "jsonpath={.spec.priority} {.spec.preemptionPolicy}"); got != "1000 PreemptLowerPriority" {
		t.Errorf("pod of class high: %q", got)
	}
	missing := strings.Replace(strings.Replace(pressurePod, "waiter", "lost", 1), "spec:\n", "spec:\n  priorityClassName: nope\n", 1)
	if got := k.fails(missing, "create", "-f", "-"); !strings.HasSuffix(got, `pods "lost" is forbidden: no PriorityClass with name nope was found`) {
		t.Errorf("pod of a missing class: %s", got)
	}
	k.ok("", "delete", "priorityclass", "high")
}
