//go:build linux && e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// workloadsYAML is a small app as users write it: a probed Deployment
// behind a Service, a client pod, a DaemonSet, a StatefulSet behind a
// headless Service, a Job and a CronJob.
const workloadsYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: 127.0.0.1:5000/nodeagent/testserver:v1
        args: [serve, --http, ":8080"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 1
        lifecycle:
          preStop: {sleep: {seconds: 3}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
` + clientPodYAML + `---
` + daemonAndDBYAML + `---
apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  completions: 2
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: 127.0.0.1:5000/nodeagent/testserver:v1
        command: [sh, -c, "echo done"]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: work
            image: 127.0.0.1:5000/nodeagent/testserver:v1
            command: [sh, -c, "echo nightly"]
`

// TestWorkloadControllersWithKubectl: the workload kinds run through the bundled
// controllers as a kubectl user expects: rollout status finishes for the
// Deployment, the DaemonSet and the StatefulSet; the Deployment is
// reached by its Service's DNS name, scales, rolls out a restart and
// undoes it; the StatefulSet's pods come up in order with stable names;
// the Job and a Job made from the CronJob complete (kubectl wait); and
// deleting the Deployment takes its ReplicaSets and pods with it.
func TestWorkloadControllersWithKubectl(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(workloadsYAML, "apply", "-f", "-")
	for _, obj := range []string{"deployment/web", "daemonset/agent", "statefulset/db"} {
		l.k.ok("", "rollout", "status", obj, "--timeout=180s")
	}
	l.waitFor(t, 90*time.Second, "pod/client", "{.status.phase}", "Running")
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "client reaches http://web/", func() error {
		out, errOut, err := l.k.run("", "exec", "client", "--", "testserver", "get", "http://web/hostname")
		if err != nil || !strings.Contains(out, "web-") {
			return fmt.Errorf("%q %q %v", out, errOut, err)
		}
		return nil
	})
	checkDaemonSet(t, l)
	checkStatefulSetOrder(t, l)
	checkJobs(t, l)
	checkDeploymentRollouts(t, l)

	l.k.ok("", "delete", "deployment", "web", "--wait=true", "--timeout=60s")
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, "the Deployment's ReplicaSets and pods collected", func() error {
		out, _, err := l.k.run("", "get", "rs,pods", "-l", "app=web", "-o", "name")
		if err != nil || strings.TrimSpace(out) != "" {
			return fmt.Errorf("left: %q %v", out, err)
		}
		return nil
	})
}

// checkDaemonSet: one pod, on the node, owned by the DaemonSet.
func checkDaemonSet(t *testing.T, l *agentLab) {
	t.Helper()
	out := l.k.ok("", "get", "pods", "-l", "app=agent", "-o", "jsonpath={range .items[*]}{.spec.nodeName} {.metadata.ownerReferences[0].kind}{\"\\n\"}{end}")
	if got := strings.TrimSpace(out); got != nodeName+" DaemonSet" {
		t.Fatalf("DaemonSet pods: %q, want one on %s", got, nodeName)
	}
	if got := l.jsonpath("ds/agent", "{.status.numberReady}/{.status.desiredNumberScheduled}"); got != "1/1" {
		t.Fatalf("DaemonSet ready/desired %s", got)
	}
}

// checkStatefulSetOrder: db-0 and db-1, the second made only once the
// first was Ready (OrderedReady), each with its stable hostname.
func checkStatefulSetOrder(t *testing.T, l *agentLab) {
	t.Helper()
	ready0 := l.jsonpath("pod/db-0", "{.status.conditions[?(@.type=='Ready')].lastTransitionTime}")
	created1 := l.jsonpath("pod/db-1", "{.metadata.creationTimestamp}")
	t0, err0 := time.Parse(time.RFC3339, ready0)
	t1, err1 := time.Parse(time.RFC3339, created1)
	if err0 != nil || err1 != nil || t1.Before(t0) {
		t.Fatalf("db-1 made at %q, db-0 Ready at %q: not in order", created1, ready0)
	}
	for _, p := range []string{"db-0", "db-1"} {
		if got := l.jsonpath("pod/"+p, "{.spec.hostname}.{.spec.subdomain}"); got != p+".db" {
			t.Fatalf("pod %s hostname.subdomain %q", p, got)
		}
	}
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "db-1 by its stable DNS name", func() error {
		out, errOut, err := l.k.run("", "exec", "client", "--", "testserver", "get", "http://db-1.db:8080/hostname")
		if err != nil || !strings.Contains(out, "db-1") {
			return fmt.Errorf("%q %q %v", out, errOut, err)
		}
		return nil
	})
}

// checkJobs: the Job completes with two successes; a Job made from the
// CronJob by hand completes and is owned by the CronJob.
func checkJobs(t *testing.T, l *agentLab) {
	t.Helper()
	l.k.ok("", "wait", "--for=condition=complete", "job/batch", "--timeout=120s")
	if got := l.jsonpath("job/batch", "{.status.succeeded}"); got != "2" {
		t.Fatalf("job succeeded %q, want 2", got)
	}
	l.k.ok("", "create", "job", "manual", "--from=cronjob/nightly")
	l.k.ok("", "wait", "--for=condition=complete", "job/manual", "--timeout=120s")
	if got := l.jsonpath("job/manual", "{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}"); got != "CronJob/nightly" {
		t.Fatalf("job made from the CronJob is owned by %q", got)
	}
}

// checkDeploymentRollouts: scale to 3; a restart replaces every pod (a
// new ReplicaSet, revision 2) while a client in a pod sends requests
// through the Service, none of which fails (readiness gates the new pods,
// the preStop sleep keeps the old ones serving until the proxy has
// dropped them); undo goes back to the first template (revision 3) and
// keeps 3 replicas.
func checkDeploymentRollouts(t *testing.T, l *agentLab) {
	t.Helper()
	l.k.ok("", "scale", "deployment/web", "--replicas=3")
	l.k.ok("", "rollout", "status", "deployment/web", "--timeout=120s")
	before := l.webPods(t)
	if len(before) != 3 {
		t.Fatalf("after scale: pods %v, want 3", before)
	}
	load := l.serviceLoad(t, "http://web/hostname")
	l.k.ok("", "rollout", "restart", "deployment/web")
	l.k.ok("", "rollout", "status", "deployment/web", "--timeout=180s")
	load.check(t, before)
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, "the old pods gone", func() error {
		after := l.webPods(t)
		if len(after) != 3 || slices.ContainsFunc(after, func(p string) bool { return slices.Contains(before, p) }) {
			return fmt.Errorf("pods %v, before %v", after, before)
		}
		return nil
	})
	if rev := l.jsonpath("deployment/web", "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}"); rev != "2" {
		t.Fatalf("revision after restart %q, want 2", rev)
	}
	if out := l.k.ok("", "rollout", "history", "deployment/web"); !strings.Contains(out, "REVISION") {
		t.Fatalf("rollout history: %q", out)
	}
	l.k.ok("", "rollout", "undo", "deployment/web")
	l.k.ok("", "rollout", "status", "deployment/web", "--timeout=180s")
	if rev := l.jsonpath("deployment/web", "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}"); rev != "3" {
		t.Fatalf("revision after undo %q, want 3", rev)
	}
	if ann := l.jsonpath("deployment/web", "{.spec.template.metadata.annotations}"); strings.Contains(ann, "restartedAt") {
		t.Fatalf("undo kept the restart's template annotation: %s", ann)
	}
	if n, _ := strconv.Atoi(l.jsonpath("deployment/web", "{.status.readyReplicas}")); n != 3 {
		t.Fatalf("ready replicas after undo %d, want 3", n)
	}
}

// webPods lists the Deployment's pods that are not terminating.
func (l *agentLab) webPods(t *testing.T) []string {
	t.Helper()
	out := l.k.ok("", "get", "pods", "-l", "app=web", "-o", `go-template={{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}`)
	return strings.Fields(out)
}

// serviceLoad sends requests to url from the client pod, each on a new
// connection, batch after batch, until check stops it.
type serviceLoad struct {
	stop    chan struct{}
	done    chan struct{}
	answers map[string]int // pod name -> requests it answered
	failed  []string
	sent    int
}

func (l *agentLab) serviceLoad(t *testing.T, url string) *serviceLoad {
	s := &serviceLoad{stop: make(chan struct{}), done: make(chan struct{}), answers: map[string]int{}}
	go func() {
		defer close(s.done)
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			out, errOut, err := l.k.run("", "exec", "client", "--", "testserver", "get", "--count", "50", "--timeout", "2s", url)
			if err != nil && !strings.Contains(errOut, "requests failed") {
				s.failed = append(s.failed, "exec: "+err.Error()+" "+errOut)
				continue
			}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				_, body, ok := strings.Cut(line, ": ")
				if !ok {
					continue
				}
				s.sent++
				if strings.HasPrefix(body, "error: ") {
					s.failed = append(s.failed, body)
				} else {
					s.answers[body]++
				}
			}
		}
	}()
	t.Cleanup(s.end)
	return s
}

func (s *serviceLoad) end() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// check stops the load and wants every request answered, by the old pods
// and by new ones.
func (s *serviceLoad) check(t *testing.T, old []string) {
	t.Helper()
	s.end()
	var byOld, byNew int
	for pod, n := range s.answers {
		if slices.Contains(old, pod) {
			byOld += n
		} else {
			byNew += n
		}
	}
	t.Logf("during the rollout: %d requests, %d answered by old pods, %d by new ones, %d failed", s.sent, byOld, byNew, len(s.failed))
	if len(s.failed) > 0 || byOld == 0 || byNew == 0 {
		t.Fatalf("requests through the Service during the rollout: %d failed (first: %q); %d answered by old pods, %d by new", len(s.failed), s.failed[:min(len(s.failed), 3)], byOld, byNew)
	}
}

// TestExampleApp: examples/app.yaml, applied unchanged, comes up as a
// user expects: the web Deployment and the db StatefulSet roll out, each
// db replica gets its own bound claim, the migrate Job reaches db-0 by its
// stable DNS name and completes, a client pod reaches the web tier by the
// Service's name, and the web pods see their ConfigMap as env and file.
func TestExampleApp(t *testing.T) {
	app, err := os.ReadFile(filepath.Join("..", "examples", "app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	l := startAgentLab(t)
	l.k.ok(string(app), "apply", "-f", "-")
	l.k.ok(clientPodYAML, "apply", "-f", "-")
	for _, obj := range []string{"deployment/web", "statefulset/db"} {
		l.k.ok("", "rollout", "status", obj, "--timeout=180s")
	}
	for _, pvc := range []string{"data-db-0", "data-db-1"} {
		l.waitFor(t, 60*time.Second, "pvc/"+pvc, "{.status.phase}", "Bound")
	}
	l.k.ok("", "wait", "--for=condition=complete", "job/migrate", "--timeout=120s")
	if out := l.k.ok("", "logs", "job/migrate"); !strings.Contains(out, "request 1: db-0") {
		t.Fatalf("migrate job's log: %q", out)
	}
	l.waitFor(t, 90*time.Second, "pod/client", "{.status.phase}", "Running")
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "client reaches http://web/ by name", func() error {
		out, errOut, err := l.k.run("", "exec", "client", "--", "testserver", "get", "http://web.default.svc.cluster.local/hostname")
		if err != nil || !strings.Contains(out, "request 1: web-") {
			return fmt.Errorf("%q %q %v", out, errOut, err)
		}
		return nil
	})
	want := "hello from the web tier"
	if out := l.k.ok("", "exec", "deploy/web", "--", "sh", "-c", "echo $GREETING; cat /etc/web/greeting"); strings.TrimSpace(out) != want+"\n"+want {
		t.Fatalf("web's config: %q", out)
	}
}

const clientPodYAML = `apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: client
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [pause]
`
