//go:build linux && e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// lifecycleYAML: hooks writes, in order, what its postStart hook, its
// preStop hook and its SIGTERM handler see into its termination message
// file, and fails a liveness probe after 3 s so that it is killed (and
// restarted); fallback fails (and is restarted) after writing to stdout
// and stderr, with FallbackToLogsOnError; badhook's postStart hook fails; deadline runs
// past its activeDeadlineSeconds.
const lifecycleYAML = `apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  containers:
  - name: app
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "trap 'echo term >> /dev/termination-log; exit 0' TERM; while true; do sleep 0.2; done"]
    lifecycle:
      postStart: {exec: {command: [sh, -c, "echo poststart > /dev/termination-log"]}}
      preStop: {exec: {command: [sh, -c, "echo prestop >> /dev/termination-log"]}}
    livenessProbe:
      exec: {command: ["false"]}
      initialDelaySeconds: 3
      periodSeconds: 1
      failureThreshold: 1
---
apiVersion: v1
kind: Pod
metadata: {name: fallback}
spec:
  restartPolicy: OnFailure
  containers:
  - name: app
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "echo line1; echo oops >&2; exit 2"]
    terminationMessagePolicy: FallbackToLogsOnError
---
apiVersion: v1
kind: Pod
metadata: {name: badhook}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [pause]
    lifecycle:
      postStart: {exec: {command: [sh, -c, "echo no config >&2; exit 7"]}}
---
apiVersion: v1
kind: Pod
metadata: {name: deadline}
spec:
  activeDeadlineSeconds: 5
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [pause]
`

// sidecarYAMLTemplate: an init container, a sidecar that is up (its
// startup probe passes) 3 s after it starts, and an app; each writes to
// the order file in a host directory (%s) when it is up and when it gets
// SIGTERM (the app takes 2 s to stop).
const sidecarYAMLTemplate = `apiVersion: v1
kind: Pod
metadata: {name: side}
spec:
  terminationGracePeriodSeconds: 20
  initContainers:
  - name: setup
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "echo setup >> /log/order"]
    volumeMounts: [{name: log, mountPath: /log}]
  - name: proxy
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    restartPolicy: Always
    command: [sh, -c, "trap 'echo proxy-term >> /log/order; exit 0' TERM; sleep 3; echo proxy-up >> /log/order; touch /tmp/up; while true; do sleep 0.2; done"]
    startupProbe:
      exec: {command: [test, -f, /tmp/up]}
      periodSeconds: 1
      failureThreshold: 30
    volumeMounts: [{name: log, mountPath: /log}]
  containers:
  - name: app
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "trap 'sleep 2; echo app-term >> /log/order; exit 0' TERM; echo app-up >> /log/order; while true; do sleep 0.2; done"]
    volumeMounts: [{name: log, mountPath: /log}]
  volumes:
  - name: log
    hostPath: {path: %s, type: Directory}
`

// TestLifecycle runs hooks, termination messages, sidecars and
// activeDeadlineSeconds on a lab node, with kubectl 1.32 and 1.27.
func TestLifecycle(t *testing.T) {
	l := startAgentLab(t)
	old := &kctl{t: t, srv: l.srv, bin: kubectls[1], kubeconfig: l.k.kubeconfig}
	l.k.ok(lifecycleYAML, "apply", "-f", "-")

	t.Run("preStop before SIGTERM, into lastState's message", func(t *testing.T) {
		path := "{.status.containerStatuses[0].lastState.terminated.message}"
		framework.Eventually(t, 90*time.Second, 250*time.Millisecond, "hooks killed for its liveness probe", func() error {
			if m := l.jsonpath("pod/hooks", path); m == "" {
				return fmt.Errorf("no last state message yet")
			}
			return nil
		})
		if m := l.jsonpath("pod/hooks", path); m != "poststart\nprestop\nterm\n" {
			t.Errorf("hooks' message %q, want poststart, prestop, then term", m)
		}
	})

	t.Run("FallbackToLogsOnError, into lastState's message", func(t *testing.T) {
		var m string
		framework.Eventually(t, 60*time.Second, 250*time.Millisecond, "fallback failed", func() error {
			if m = l.jsonpath("pod/fallback", "{.status.containerStatuses[0].lastState.terminated.message}"); m == "" {
				return fmt.Errorf("no last state message yet")
			}
			return nil
		})
		// stdout and stderr are two pipes: their lines interleave either way.
		if m != "line1\noops\n" && m != "oops\nline1\n" {
			t.Errorf("fallback's message %q, want its log", m)
		}
	})

	t.Run("postStart failure", func(t *testing.T) {
		framework.Eventually(t, 60*time.Second, 250*time.Millisecond, "badhook killed", func() error {
			n, _ := strconv.Atoi(l.jsonpath("pod/badhook", "{.status.containerStatuses[0].restartCount}"))
			w := l.jsonpath("pod/badhook", "{.status.containerStatuses[0].state.waiting.reason}")
			if n < 1 && w != "PostStartHookError" {
				return fmt.Errorf("restartCount %d, waiting %q", n, w)
			}
			return nil
		})
		desc := old.ok("", "describe", "pod", "badhook")
		for _, want := range []string{"FailedPostStartHook", "PostStartHook failed"} {
			if !strings.Contains(desc, want) {
				t.Errorf("kubectl 1.27 describe lacks %q:\n%s", want, desc)
			}
		}
	})

	t.Run("activeDeadlineSeconds", func(t *testing.T) {
		l.waitFor(t, 60*time.Second, "pod/deadline", "{.status.phase} {.status.reason}", "Failed DeadlineExceeded")
		if c := l.jsonpath("pod/deadline", "{.status.containerStatuses[0].state.terminated.reason}"); c == "" {
			t.Error("the pod failed but its container was not stopped")
		}
		desc := old.ok("", "describe", "pod", "deadline")
		if !strings.Contains(desc, "Pod was active on the node longer than the specified deadline") {
			t.Errorf("kubectl 1.27 describe lacks the pod's message:\n%s", desc)
		}
		events := l.k.ok("", "get", "events", "-o", `jsonpath={range .items[?(@.involvedObject.name=="deadline")]}{.type} {.reason}: {.message}{"\n"}{end}`)
		if !strings.Contains(events, "Normal DeadlineExceeded: Pod was active on the node longer than the specified deadline\n") {
			t.Errorf("no Normal DeadlineExceeded event:\n%s", events)
		}
	})

	t.Run("sidecar starts before and stops after the app", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		l.k.ok(fmt.Sprintf(sidecarYAMLTemplate, dir), "apply", "-f", "-")
		l.waitFor(t, 90*time.Second, "pod/side", "{.status.conditions[?(@.type=='Ready')].status}", "True")
		l.k.ok("", "delete", "pod", "side", "--wait=true", "--timeout=60s")
		b, err := os.ReadFile(filepath.Join(dir, "order"))
		if err != nil {
			t.Fatal(err)
		}
		if want := "setup\nproxy-up\napp-up\napp-term\nproxy-term\n"; string(b) != want {
			t.Fatalf("order %q, want %q", b, want)
		}
	})
}
