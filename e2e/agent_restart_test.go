//go:build linux && e2e

package e2e

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// sleeperPod runs a container that sleeps until it is killed.
func sleeperPod(name string) string {
	return strings.ReplaceAll(strings.ReplaceAll(crashPod, "crash", name), `echo dying; exit 3`, `sleep 3600`)
}

// serverPod runs the test server on :8080 (so it can be asked to /exit).
func serverPod(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [serve, --http, ":8080"]
`, name)
}

// splitAgentLab is `nodeagent server --disable-agent` and a separate
// `nodeagent agent` with a node kubeconfig, in one lab node.
func splitAgentLab(t *testing.T, agentExtra ...string) (*agentLab, *framework.Process) {
	requireAgentDeps(t)
	node := framework.NewLab(t)
	dirs := framework.NewNodeDirs(t, node, nodeName)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	l := &agentLab{node: node, srv: srv, dirs: dirs, k: &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}}
	kc := mintNodeKubeconfig(t, srv, nodeName)
	args := append(append([]string{"agent", "--kubeconfig", kc}, dirs.AgentArgs(nodeName)...), agentExtra...)
	agent := framework.StartProcess(t, node, "agent", args...)
	l.waitFor(t, 60*time.Second, "node/"+nodeName, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	return l, agent
}

// requireSamePids fails unless every task in before still runs with its pid.
func requireSamePids(t *testing.T, what string, before, after map[string]uint32) {
	t.Helper()
	if len(before) == 0 {
		t.Fatalf("%s: no running containers to compare", what)
	}
	for k, pid := range before {
		if after[k] != pid {
			t.Fatalf("%s: container %s had pid %d, now %d (all now: %v)", what, k, pid, after[k], after)
		}
	}
}

// TestAPIServerDownPodsKeepRunning kills the API server with SIGKILL under
// a running pod: the containers keep running (same pids), and once the
// server is back the agent carries on: the node stays Ready, a new pod
// starts, the first one can be deleted.
func TestAPIServerDownPodsKeepRunning(t *testing.T) {
	l, _ := splitAgentLab(t)
	l.k.ok(sleeperPod("first"), "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/first", "{.status.phase}", "Running")
	before := framework.AppContainerPids(t, l.dirs.Namespace)
	if before["first/first"] == 0 {
		t.Fatalf("no running container first/first: %v", before)
	}

	l.srv.Kill9()
	// The server stays down for 5 s (the agent's watches and Lease renewals
	// fail meanwhile); the containers run on throughout.
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		requireSamePids(t, "with the server killed", before, framework.AppContainerPids(t, l.dirs.Namespace))
	}
	l.srv.Start()
	requireSamePids(t, "after the server restart", before, framework.AppContainerPids(t, l.dirs.Namespace))

	l.k.ok(sleeperPod("second"), "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/second", "{.status.phase}", "Running")
	if ready := l.jsonpath("node/"+nodeName, "{.status.conditions[?(@.type=='Ready')].status}"); ready != "True" {
		t.Fatalf("node Ready=%q after the server restart", ready)
	}
	if n := l.jsonpath("pod/first", "{.status.containerStatuses[0].restartCount}"); n != "0" {
		t.Fatalf("pod first restartCount %q, want 0", n)
	}
	l.k.ok("", "delete", "pod", "first", "--grace-period=1", "--wait=false")
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, "pod first deleted", func() error {
		if _, errOut, err := l.k.run("", "get", "pod", "first"); err == nil || !strings.Contains(errOut, "NotFound") {
			return fmt.Errorf("still there")
		}
		if _, ok := framework.AppContainerPids(t, l.dirs.Namespace)["first/first"]; ok {
			return fmt.Errorf("its container still runs")
		}
		return nil
	})
}

// TestContainerdRestartAgentCarriesOn restarts nodeagent's containerd once
// under a running pod: the shims keep the containers running (same pids),
// and the agent's event stream reconnects: with the safety-net relist set
// to 5 minutes, a container exit still reaches the status within seconds,
// the container restarts, and a new pod starts.
func TestContainerdRestartAgentCarriesOn(t *testing.T) {
	l, _ := splitAgentLab(t, "--pleg-relist-period", "5m")
	l.k.ok(serverPod("web"), "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/web", "{.status.containerStatuses[0].ready}", "true")
	ip := l.jsonpath("pod/web", "{.status.podIP}")
	before := framework.AppContainerPids(t, l.dirs.Namespace)

	framework.RestartContainerd(t)
	requireSamePids(t, "after the containerd restart", before, framework.AppContainerPids(t, l.dirs.Namespace))

	// Ask the test server to exit, then expect the status within 20 s: far
	// below the 5 min relist, so only the reconnected event stream can tell.
	var body string
	framework.Eventually(t, 10*time.Second, 200*time.Millisecond, "the pod answers", func() error {
		var err error
		body, err = l.get("http://" + net.JoinHostPort(ip, "8080") + "/exit?code=7")
		return err
	})
	if !strings.Contains(body, "exiting with 7") {
		t.Fatalf("/exit answered %q", body)
	}
	l.waitFor(t, 20*time.Second, "pod/web", "{.status.containerStatuses[0].lastState.terminated.exitCode}", "7")
	l.waitFor(t, 60*time.Second, "pod/web", "{.status.containerStatuses[0].restartCount}", "1")
	l.k.ok(sleeperPod("after"), "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/after", "{.status.phase}", "Running")
	after := framework.AppContainerPids(t, l.dirs.Namespace)
	if after["web/web"] == 0 || after["web/web"] == before["web/web"] {
		t.Fatalf("web's container should run again with a new pid: before %v after %v", before, after)
	}
}

// TestAgentRestartChecksAdoptedNetwork kills the agent twice: once with
// the pod's network intact (CNI CHECK passes), once after the pod's host
// veth was deleted meanwhile (CHECK fails: a Warning event; the pod's
// containers keep running, nothing is torn down).
func TestAgentRestartChecksAdoptedNetwork(t *testing.T) {
	l, agent := splitAgentLab(t)
	l.k.ok(sleeperPod("first"), "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/first", "{.status.phase}", "Running")
	before := framework.AppContainerPids(t, l.dirs.Namespace)

	agent.Kill9()
	agent.Start()
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "CHECK of the adopted sandbox passes", func() error {
		if !strings.Contains(agent.Log(), "CNI check of an adopted pod sandbox passed") {
			return fmt.Errorf("not in the agent log yet")
		}
		return nil
	})

	agent.Kill9()
	links, err := l.node.Links()
	if err != nil {
		t.Fatal(err)
	}
	var veths []string
	for _, ln := range links {
		if ln.Type() == "veth" {
			veths = append(veths, ln.Attrs().Name)
		}
	}
	if len(veths) != 1 {
		t.Fatalf("want the pod's one host veth, have %v", veths)
	}
	if out, err := exec.Command("ip", "-n", l.node.Config().NetNSName(), "link", "del", veths[0]).CombinedOutput(); err != nil {
		t.Fatalf("delete %s: %v %s", veths[0], err, out)
	}
	agent.Start()
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "a FailedCNICheck event", func() error {
		out, _, _ := l.k.run("", "get", "events", "-o", `jsonpath={range .items[*]}{.type} {.reason} {.involvedObject.name}{"\n"}{end}`)
		if !strings.Contains(out, "Warning FailedCNICheck first\n") {
			return fmt.Errorf("events:\n%s", out)
		}
		return nil
	})
	requireSamePids(t, "after a failed CNI CHECK", before, framework.AppContainerPids(t, l.dirs.Namespace))
	if phase := l.jsonpath("pod/first", "{.status.phase}"); phase != "Running" {
		t.Fatalf("pod phase %q after a failed CNI CHECK", phase)
	}
}
