//go:build linux && e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/lab"
)

// nodeName is the name the lab's agent registers: unique to this test
// binary, so that the node's cgroups (/nodeagent/<node>) of two e2e runs on
// one machine never meet.
var nodeName = framework.UniqueName("lab-node-")

// agentLab is a lab node running `nodeagent server` with its agent.
type agentLab struct {
	node *lab.Node
	srv  *framework.APIServer
	dirs framework.NodeDirs
	k    *kctl
}

// requireAgentDeps needs what a lab node with an agent runs on: the API
// server's dependencies, containerd, the registry and the CNI plugins.
func requireAgentDeps(t *testing.T) {
	t.Helper()
	requireAPIServerDeps(t)
	framework.RequireContainerd(t)
	framework.RequireRegistry(t)
	framework.RequireCNIPlugins(t, "bridge", "host-local", "portmap", "loopback")
}

func startAgentLab(t *testing.T, extra ...string) *agentLab {
	requireAgentDeps(t)
	return startAgentLabOn(t, framework.NewLab(t), extra...)
}

// startAgentLabOn is startAgentLab on a lab node made already.
func startAgentLabOn(t *testing.T, node *lab.Node, extra ...string) *agentLab {
	dirs := framework.NewNodeDirs(t, node, nodeName)
	srv := framework.StartAPIServer(t, node, append(dirs.AgentArgs(nodeName), extra...)...)
	l := &agentLab{node: node, srv: srv, dirs: dirs}
	l.k = &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, "node Ready", func() error {
		out, _, err := l.k.run("", "get", "node", nodeName, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}")
		if err != nil || out != "True" {
			return fmt.Errorf("ready=%q %v", out, err)
		}
		return nil
	})
	return l
}

// jsonpath reads one field of an object with kubectl.
func (l *agentLab) jsonpath(obj, path string) string {
	out, _, _ := l.k.run("", "get", obj, "-o", "jsonpath="+path)
	return out
}

// waitFor polls a jsonpath until it equals want.
func (l *agentLab) waitFor(t *testing.T, timeout time.Duration, obj, path, want string) {
	t.Helper()
	err := framework.Poll(timeout, 200*time.Millisecond, func() error {
		if got := l.jsonpath(obj, path); got != want {
			return fmt.Errorf("got %q", got)
		}
		return nil
	})
	if err != nil {
		out, _, _ := l.k.run("", "get", obj, "-o", "yaml")
		t.Fatalf("%s %s == %s: %v\n%s", obj, path, want, err, out)
	}
}

// get fetches a URL from inside the lab node.
func (l *agentLab) get(url string) (string, error) {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DialContext: l.node.DialContext}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

const twoContainerPod = `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  initContainers:
  - name: init
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "echo initialised > /work/init.txt"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: web
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [serve, --http, ":8080", --tcp-echo, ":9000", --udp-echo, ":9001"]
    env:
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    volumeMounts: [{name: work, mountPath: /work}]
  - name: side
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [pause]
  volumes: [{name: work, emptyDir: {}}]
`

func TestPodRunsWithInitAndTwoContainers(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(twoContainerPod, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/web", "{.status.phase}", "Running")
	l.waitFor(t, 30*time.Second, "pod/web", "{.status.conditions[?(@.type=='Ready')].status}", "True")
	line := squash(l.k.ok("", "get", "pod", "web", "--no-headers"))
	if !strings.HasPrefix(line, "web 2/2 Running 0 ") {
		t.Fatalf("kubectl get pod: %q", line)
	}
	ip, err := netip.ParseAddr(l.jsonpath("pod/web", "{.status.podIP}"))
	if err != nil || !netip.MustParsePrefix("10.244.0.0/24").Contains(ip) {
		t.Fatalf("pod IP %v %v", ip, err)
	}
	var body string
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, "the pod answers on its IP", func() error {
		body, err = l.get("http://" + ip.String() + ":8080/hostname")
		return err
	})
	if strings.TrimSpace(body) != "web" {
		t.Errorf("hostname %q, want web", body)
	}
	env, _ := l.get("http://" + ip.String() + ":8080/env")
	if !strings.Contains(env, "POD_NAME=web\n") {
		t.Errorf("env lacks POD_NAME=web:\n%s", env)
	}
	if logs := l.k.ok("", "logs", "web", "-c", "web"); !strings.Contains(logs, "serving") {
		t.Errorf("kubectl logs: %q", logs)
	}
	l.statusIsQuiet(t, "pod/web")
	desc := l.k.ok("", "describe", "pod", "web")
	for _, ev := range []string{"Scheduled", "Created", "Started"} {
		if !strings.Contains(desc, ev) {
			t.Errorf("describe lacks event %s:\n%s", ev, desc)
		}
	}
}

const crashPod = `apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers:
  - name: crash
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "echo dying; exit 3"]
`

func TestCrashLoopBackOff(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(crashPod, "apply", "-f", "-")
	sawBackOff := false
	framework.Eventually(t, 90*time.Second, 250*time.Millisecond, "restartCount grows to 2", func() error {
		reason := l.jsonpath("pod/crash", "{.status.containerStatuses[0].state.waiting.reason}")
		sawBackOff = sawBackOff || reason == "CrashLoopBackOff"
		n, _ := strconv.Atoi(l.jsonpath("pod/crash", "{.status.containerStatuses[0].restartCount}"))
		if n < 2 {
			return fmt.Errorf("restartCount %d", n)
		}
		return nil
	})
	if !sawBackOff {
		t.Error("never saw waiting reason CrashLoopBackOff")
	}
	if code := l.jsonpath("pod/crash", "{.status.containerStatuses[0].lastState.terminated.exitCode}"); code != "3" {
		t.Errorf("lastState exit code %q, want 3", code)
	}
	if !strings.Contains(l.k.ok("", "describe", "pod", "crash"), "BackOff") {
		t.Error("no BackOff event")
	}
}

const slowStopPod = `apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: slow
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "trap '' TERM; while true; do sleep 1; done"]
`

func TestGracefulDeletionHonoursGracePeriod(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(slowStopPod, "apply", "-f", "-")
	l.waitFor(t, 60*time.Second, "pod/slow", "{.status.phase}", "Running")
	start := time.Now()
	l.k.ok("", "delete", "pod", "slow", "--wait=false")
	if ts := l.jsonpath("pod/slow", "{.metadata.deletionTimestamp}"); ts == "" {
		t.Fatal("the pod was removed at once; it should terminate with its grace period")
	}
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, "pod gone", func() error {
		if _, errOut, err := l.k.run("", "get", "pod", "slow"); err == nil || !strings.Contains(errOut, "NotFound") {
			return fmt.Errorf("still there")
		}
		return nil
	})
	if took := time.Since(start); took < 3*time.Second {
		t.Errorf("a container that ignores SIGTERM was gone after %s, before its 3s grace period", took)
	}
}

// TestCreateDeleteCyclesLeaveNothing runs 100 pods through create and
// delete and checks every kind of leftover.
func TestCreateDeleteCyclesLeaveNothing(t *testing.T) {
	l := startAgentLab(t)
	const total, batch = 100, 10
	for b := 0; b < total/batch; b++ {
		var wg sync.WaitGroup
		for i := 0; i < batch; i++ {
			name := fmt.Sprintf("cycle-%d", b*batch+i)
			pod := strings.ReplaceAll(crashPod, "crash", name)
			pod = strings.ReplaceAll(pod, `echo dying; exit 3`, `sleep 3600`)
			l.k.ok(pod, "apply", "-f", "-")
			wg.Add(1)
			go func() {
				defer wg.Done()
				l.waitFor(t, 90*time.Second, "pod/"+name, "{.status.phase}", "Running")
			}()
		}
		wg.Wait()
		l.k.ok("", "delete", "pods", "--all", "--grace-period=1")
	}
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "everything is gone", l.leftovers)
}

// leftovers reports what the lab's pods left: network namespaces, address
// reservations, cgroups, containerd containers and snapshots, veths.
func (l *agentLab) leftovers() error {
	var left []string
	left = append(left, framework.NetNSWithPrefix(l.dirs.NetNSPrefix)...)
	left = append(left, framework.IPReservations(l.dirs.IPAM)...)
	left = append(left, framework.PodCgroups(nodeName)...)
	c, err := framework.ContainerdLeftovers(l.dirs.Namespace)
	if err != nil {
		return err
	}
	left = append(left, c...)
	links, err := l.node.Links()
	if err != nil {
		return err
	}
	for _, ln := range links {
		if ln.Type() == "veth" {
			left = append(left, "veth "+ln.Attrs().Name)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("left behind: %v", left)
	}
	return nil
}

var _ = context.Background

// statusIsQuiet checks that a settled pod is not rewritten: its
// resourceVersion stays the same over a 3 s window (an agent that rewrote
// an unchanged status did so many times a second and woke itself each
// time). The window is an observation, not a synchronisation.
func (l *agentLab) statusIsQuiet(t *testing.T, obj string) {
	t.Helper()
	before := l.jsonpath(obj, "{.metadata.resourceVersion}")
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if now := l.jsonpath(obj, "{.metadata.resourceVersion}"); now != before {
			t.Fatalf("%s was rewritten while nothing changed: resourceVersion %s -> %s", obj, before, now)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestAgentKill9RestartsNothing runs the agent as its own process, kills it
// with SIGKILL and starts it again: the pod's containers keep running (same
// pids), keep their IP, and nothing restarts.
func TestAgentKill9RestartsNothing(t *testing.T) {
	requireAPIServerDeps(t)
	framework.RequireContainerd(t)
	framework.RequireRegistry(t)
	node := framework.NewLab(t)
	dirs := framework.NewNodeDirs(t, node, nodeName)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	l := &agentLab{node: node, srv: srv, dirs: dirs, k: k}
	kc := mintNodeKubeconfig(t, srv, nodeName)
	agent := framework.StartProcess(t, node, "agent", append([]string{"agent", "--kubeconfig", kc}, dirs.AgentArgs(nodeName)...)...)
	l.k.ok(twoContainerPod, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/web", "{.status.conditions[?(@.type=='Ready')].status}", "True")
	before := l.jsonpath("pod/web", "{.status.podIP} {.status.containerStatuses[*].containerID} {.status.containerStatuses[*].restartCount}")
	pidsBefore := framework.ContainerPids(t, dirs.Namespace)

	agent.Kill9()
	agent.Start()
	// The restarted agent syncs every pod it finds first (FIFO); a pod
	// created after the restart that reaches Running proves it got past web.
	l.k.ok(strings.ReplaceAll(crashPod, `echo dying; exit 3`, `sleep 3600`), "apply", "-f", "-")
	l.waitFor(t, 60*time.Second, "pod/crash", "{.status.phase}", "Running")
	after := l.jsonpath("pod/web", "{.status.podIP} {.status.containerStatuses[*].containerID} {.status.containerStatuses[*].restartCount}")
	if before != after {
		t.Fatalf("status changed across the agent restart:\n%s\n%s", before, after)
	}
	pidsAfter := strings.Join(framework.ContainerPids(t, dirs.Namespace), " ")
	for _, p := range pidsBefore {
		if !strings.Contains(pidsAfter, p) {
			t.Fatalf("task %s is gone or has another pid after the agent restart: %s", p, pidsAfter)
		}
	}
	ip := strings.Fields(after)[0]
	if _, err := l.get("http://" + ip + ":8080/hostname"); err != nil {
		t.Fatalf("the pod stopped answering: %v", err)
	}

	// The cleanup path: with the agent gone, `nodeagent agent --cleanup`
	// removes what its pods left on the machine.
	agent.Kill9()
	cleanup := exec.Command(framework.Binary(t), append([]string{"agent", "--cleanup"}, dirs.AgentArgs(nodeName)...)...)
	var out strings.Builder
	cleanup.Stdout, cleanup.Stderr = &out, &out
	if err := node.Run(cleanup); err != nil {
		t.Fatalf("agent --cleanup: %v\n%s", err, out.String())
	}
	if err := l.leftovers(); err != nil {
		t.Fatalf("after agent --cleanup: %v", err)
	}
}

// agentCredentials mints what a standalone agent for node name at
// 127.0.0.1 needs (a node kubeconfig and a serving certificate from the
// cluster CA, so that the server reaches its logs) and returns the flags.
func agentCredentials(t *testing.T, srv *framework.APIServer, name string) []string {
	kc, serving := t.TempDir()+"/"+name+".kubeconfig", t.TempDir()+"/serving"
	mint := exec.Command(framework.Binary(t), "kubeconfig", "node", name, "--data-dir", srv.DataDir,
		"--out", kc, "--serving-cert-out", serving, "--node-ip", "127.0.0.1")
	if out, err := mint.CombinedOutput(); err != nil {
		t.Fatalf("mint the agent's credentials: %v %s", err, out)
	}
	return []string{"--kubeconfig", kc, "--node-ip", "127.0.0.1",
		"--tls-cert-file", serving + "/kubelet.crt", "--tls-private-key-file", serving + "/kubelet.key"}
}

func mintNodeKubeconfig(t *testing.T, srv *framework.APIServer, name string) string {
	path := t.TempDir() + "/" + name + ".kubeconfig"
	mint := exec.Command(framework.Binary(t), "kubeconfig", "node", name, "--data-dir", srv.DataDir, "--out", path)
	if out, err := mint.CombinedOutput(); err != nil {
		t.Fatalf("mint node kubeconfig: %v %s", err, out)
	}
	return path
}
