//go:build linux && e2e

package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// probedBackendYAML is a backend with an HTTP readiness probe on the test
// server's switchable /healthz.
const probedBackendYAML = `apiVersion: v1
kind: Pod
metadata: {name: NAME, labels: {app: probed}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [serve, --http, ":8080"]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /healthz, port: http}
      periodSeconds: 1
      failureThreshold: 1
`

// probedYAML: two probed backends behind a Service; a container whose
// server hangs (SIGSTOP) three seconds after it starts, under an HTTP
// liveness probe with a probe-level grace period of 2 s (the pod's is
// 30 s).
var probedYAML = strings.ReplaceAll(probedBackendYAML, "NAME", "ready-0") + "---\n" +
	strings.ReplaceAll(probedBackendYAML, "NAME", "ready-1") + `---
apiVersion: v1
kind: Service
metadata: {name: probed}
spec:
  selector: {app: probed}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: hung}
spec:
  containers:
  - name: hung
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "testserver serve --http :8080 & sleep 3; kill -STOP $!; wait"]
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
      timeoutSeconds: 1
      failureThreshold: 2
      terminationGracePeriodSeconds: 2
`

// slowYAML is a slow starter: its startup probe holds its liveness and
// readiness probes for 6 s (the liveness probe would kill it at its first
// failure).
const slowYAML = `apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "sleep 6; touch /tmp/started; exec testserver serve --http :8080"]
    startupProbe:
      exec: {command: [test, -f, /tmp/started]}
      periodSeconds: 1
      failureThreshold: 30
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
      failureThreshold: 1
    readinessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
`

// TestProbes runs the three kinds of probe on a lab node, with kubectl
// 1.32 and 1.27: a failing readiness probe takes a pod out of its
// Service's rotation (its EndpointSlice endpoint turns not ready, the
// proxy stops sending it requests) and a passing one brings it back; a
// liveness probe restarts a hung container, within the probe's own grace
// period, with kubelet's Unhealthy and Killing events; a startup probe
// holds the other two until it passes.
func TestProbes(t *testing.T) {
	l := startAgentLab(t)
	old := &kctl{t: t, srv: l.srv, bin: kubectls[1], kubeconfig: l.k.kubeconfig}
	l.k.ok(probedYAML, "apply", "-f", "-")
	for _, p := range []string{"ready-0", "ready-1"} {
		l.waitFor(t, 90*time.Second, "pod/"+p, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	}
	l.waitEndpoints(t, "probed", "ready-0=true ready-1=true")
	vip := l.jsonpath("svc/probed", "{.spec.clusterIP}")
	fromNode := l.httpClient(l.node.DialContext)
	l.wantAll(t, fromNode, "http://"+vip+"/hostname", []string{"ready-0", "ready-1"})

	t.Run("readiness", func(t *testing.T) {
		ip := l.jsonpath("pod/ready-1", "{.status.podIP}")
		start := time.Now()
		l.setHealth(t, ip, false)
		l.waitFor(t, 30*time.Second, "pod/ready-1", "{.status.conditions[?(@.type=='Ready')].status}", "False")
		l.waitEndpoints(t, "probed", "ready-0=true ready-1=false")
		t.Logf("ready-1's endpoint not ready %s after its /healthz failed", time.Since(start).Round(time.Millisecond))
		l.onlyAnswers(t, fromNode, "http://"+vip+"/hostname", "ready-0")
		desc := old.ok("", "describe", "pod", "ready-1")
		if !strings.Contains(desc, "Readiness probe failed: HTTP probe failed with statuscode: 503") {
			t.Errorf("kubectl 1.27 describe lacks the Unhealthy event:\n%s", desc)
		}
		l.setHealth(t, ip, true)
		l.waitFor(t, 30*time.Second, "pod/ready-1", "{.status.conditions[?(@.type=='Ready')].status}", "True")
		l.waitEndpoints(t, "probed", "ready-0=true ready-1=true")
		l.wantAll(t, fromNode, "http://"+vip+"/hostname", []string{"ready-0", "ready-1"})
		if n := l.jsonpath("pod/ready-1", "{.status.containerStatuses[0].restartCount}"); n != "0" {
			t.Errorf("a readiness failure restarted the container (restartCount %s)", n)
		}
	})

	t.Run("liveness", func(t *testing.T) {
		framework.Eventually(t, 90*time.Second, 250*time.Millisecond, "the hung container restarted", func() error {
			if n, _ := strconv.Atoi(l.jsonpath("pod/hung", "{.status.containerStatuses[0].restartCount}")); n < 1 {
				return fmt.Errorf("restartCount %d", n)
			}
			return nil
		})
		last := l.jsonpath("pod/hung", "{.status.containerStatuses[0].lastState.terminated.exitCode} "+
			"{.status.containerStatuses[0].lastState.terminated.startedAt} {.status.containerStatuses[0].lastState.terminated.finishedAt}")
		f := strings.Fields(last)
		if len(f) != 3 || f[0] != "137" {
			t.Fatalf("last state %q, want a SIGKILL (137) after the probe's grace period", last)
		}
		started, _ := time.Parse(time.RFC3339, f[1])
		finished, _ := time.Parse(time.RFC3339, f[2])
		// 3 s up, 2 failed probes, 2 s of grace: far below the pod's 30 s.
		if ran := finished.Sub(started); ran > 20*time.Second {
			t.Errorf("the hung container ran %s: the liveness probe's 2 s grace period was not used", ran)
		}
		desc := l.k.ok("", "describe", "pod", "hung")
		for _, want := range []string{"Liveness probe failed:", "Container hung failed liveness probe, will be restarted"} {
			if !strings.Contains(desc, want) {
				t.Errorf("describe lacks %q:\n%s", want, desc)
			}
		}
	})

	t.Run("startup", func(t *testing.T) {
		old.ok(slowYAML, "apply", "-f", "-")
		sawUnstarted := false
		framework.Eventually(t, 90*time.Second, 200*time.Millisecond, "the slow starter is Ready", func() error {
			st := l.jsonpath("pod/slow", "{.status.containerStatuses[0].state.running.startedAt} {.status.containerStatuses[0].started} "+
				"{.status.containerStatuses[0].ready}")
			f := strings.Fields(st)
			if len(f) == 3 && f[1] == "false" && f[2] == "false" {
				sawUnstarted = true
			}
			if len(f) != 3 || f[2] != "true" {
				return fmt.Errorf("running since, started, ready: %q", st)
			}
			return nil
		})
		if !sawUnstarted {
			t.Error("never saw the running container not started and not ready")
		}
		started, _ := time.Parse(time.RFC3339, l.jsonpath("pod/slow", "{.status.containerStatuses[0].state.running.startedAt}"))
		ready, _ := time.Parse(time.RFC3339, l.jsonpath("pod/slow", "{.status.conditions[?(@.type=='Ready')].lastTransitionTime}"))
		if d := ready.Sub(started); d < 5*time.Second {
			t.Errorf("Ready %s after the container started, before its startup probe could pass (6 s)", d)
		}
		if n := l.jsonpath("pod/slow", "{.status.containerStatuses[0].restartCount}"); n != "0" {
			t.Errorf("the liveness probe killed the slow starter before its startup probe passed (restartCount %s)", n)
		}
	})
}

// setHealth switches a test server's /healthz, from inside the lab.
func (l *agentLab) setHealth(t *testing.T, ip string, healthy bool) {
	t.Helper()
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DialContext: l.node.DialContext}}
	resp, err := c.Post("http://"+ip+":8080/healthz?fail="+strconv.FormatBool(!healthy), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// waitEndpoints waits until the Service's EndpointSlices list exactly
// these endpoints, as "pod=ready" sorted by pod name.
func (l *agentLab) waitEndpoints(t *testing.T, svc, want string) {
	t.Helper()
	path := "{range .items[?(@.metadata.labels.kubernetes\\.io/service-name=='" + svc + "')]}" +
		"{range .endpoints[*]}{.targetRef.name}={.conditions.ready}{' '}{end}{end}"
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, svc+"'s endpoints "+want, func() error {
		got := strings.Fields(l.jsonpath("endpointslices", path))
		slices.Sort(got)
		if strings.Join(got, " ") != want {
			return fmt.Errorf("endpoints %q", got)
		}
		return nil
	})
}

// onlyAnswers wants 30 requests in a row through url answered by backend.
func (l *agentLab) onlyAnswers(t *testing.T, c *http.Client, url, backend string) {
	t.Helper()
	streak := 0
	framework.Eventually(t, 15*time.Second, 20*time.Millisecond, "only "+backend+" answers "+url, func() error {
		body, err := get(c, url)
		if err != nil || body != backend {
			streak = 0
			return fmt.Errorf("answer %q %v", body, err)
		}
		if streak++; streak < 30 {
			return fmt.Errorf("%d answers in a row from %s", streak, backend)
		}
		return nil
	})
}
