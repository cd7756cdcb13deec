//go:build linux && e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// setsYAML is a DaemonSet, a StatefulSet behind a headless Service and
// one with a volume claim template (the default local class).
const setsYAML = daemonAndDBYAML + `---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: store}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: store}}
  template:
    metadata: {labels: {app: store}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: store
        image: 127.0.0.1:5000/nodeagent/testserver:v1
        args: [pause]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 64Mi}}
`

// TestSetRolloutsWithKubectl: a DaemonSet and StatefulSets on a real
// node, driven as a kubectl user does: rollout status finishes, rollout
// restart replaces the pods (the StatefulSet's from the highest ordinal
// down), rollout history lists the ControllerRevisions and rollout undo
// brings the first template back as a new revision, a pod made again
// finds its claim's data, scaling down removes the highest pod, and the
// events are kube's.
func TestSetRolloutsWithKubectl(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(setsYAML, "apply", "-f", "-")
	for _, obj := range []string{"daemonset/agent", "statefulset/db", "statefulset/store"} {
		l.k.ok("", "rollout", "status", obj, "--timeout=120s")
	}
	checkDaemonPod(t, l)
	rollDaemonSet(t, l)
	rollStatefulSet(t, l)
	checkStableStorage(t, l)

	l.k.ok("", "scale", "statefulset/db", "--replicas=1")
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, "db-1 gone", func() error {
		if out := l.k.ok("", "get", "pods", "-l", "app=db", "-o", "name"); strings.TrimSpace(out) != "pod/db-0" {
			return fmt.Errorf("pods %q", out)
		}
		return nil
	})
	events := l.k.ok("", "get", "events", "-o", "jsonpath={range .items[*]}{.source.component}: {.message}{\"\\n\"}{end}")
	for _, want := range []string{"daemonset-controller: Created pod: agent-", "statefulset-controller: create Pod db-1 in StatefulSet db successful",
		"statefulset-controller: delete Pod db-1 in StatefulSet db successful"} {
		if !strings.Contains(events, want) {
			t.Errorf("no event %q in:\n%s", want, events)
		}
	}
}

// checkDaemonPod: the pod is bound by the metadata.name node affinity
// and carries the tolerations kube adds.
func checkDaemonPod(t *testing.T, l *agentLab) {
	t.Helper()
	aff := l.k.ok("", "get", "pods", "-l", "app=agent", "-o",
		"jsonpath={.items[0].spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]} {.items[0].spec.nodeName}")
	if aff != nodeName+" "+nodeName {
		t.Fatalf("daemon pod affinity and node %q, want %s", aff, nodeName)
	}
	tols := l.k.ok("", "get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[0].spec.tolerations[*].key}")
	if !strings.Contains(tols, "node.kubernetes.io/not-ready") || !strings.Contains(tols, "node.kubernetes.io/unschedulable") {
		t.Fatalf("daemon pod tolerations %q", tols)
	}
}

// rollDaemonSet: restart (revision 2), then undo (revision 3, the first
// template again).
func rollDaemonSet(t *testing.T, l *agentLab) {
	t.Helper()
	agents := func() string {
		return l.k.ok("", "get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[*].metadata.name}")
	}
	first := agents()
	l.k.ok("", "rollout", "restart", "daemonset/agent")
	l.k.ok("", "rollout", "status", "daemonset/agent", "--timeout=120s")
	if hist := squash(l.k.ok("", "rollout", "history", "daemonset/agent")); !strings.Contains(hist, "REVISION CHANGE-CAUSE 1 <none> 2 <none>") {
		t.Fatalf("history after restart: %s", hist)
	}
	if now := agents(); first == "" || strings.Contains(now, first) {
		t.Fatalf("pods after restart %q still hold %s", now, first)
	}
	l.k.ok("", "rollout", "undo", "daemonset/agent")
	l.k.ok("", "rollout", "status", "daemonset/agent", "--timeout=120s")
	if hist := squash(l.k.ok("", "rollout", "history", "daemonset/agent")); !strings.Contains(hist, "REVISION CHANGE-CAUSE 2 <none> 3 <none>") {
		t.Fatalf("history after undo: %s", hist)
	}
	if ann := l.jsonpath("ds/agent", "{.spec.template.metadata.annotations}"); strings.Contains(ann, "restartedAt") {
		t.Fatalf("undo kept the restart's annotation: %s", ann)
	}
	if got := l.jsonpath("ds/agent", "{.status.numberAvailable}/{.status.updatedNumberScheduled}/{.status.desiredNumberScheduled}"); got != "1/1/1" {
		t.Fatalf("status available/updated/desired %s", got)
	}
}

// rollStatefulSet: restart replaces db-1 before db-0, and the current
// revision follows; undo brings the first revision back.
func rollStatefulSet(t *testing.T, l *agentLab) {
	t.Helper()
	rev1 := l.jsonpath("sts/db", "{.status.currentRevision}")
	l.k.ok("", "rollout", "restart", "statefulset/db")
	l.k.ok("", "rollout", "status", "statefulset/db", "--timeout=180s")
	c0, c1 := l.jsonpath("pod/db-0", "{.metadata.creationTimestamp}"), l.jsonpath("pod/db-1", "{.metadata.creationTimestamp}")
	t0, err0 := time.Parse(time.RFC3339, c0)
	t1, err1 := time.Parse(time.RFC3339, c1)
	if err0 != nil || err1 != nil || t0.Before(t1) {
		t.Fatalf("after restart db-0 made at %s, db-1 at %s: db-1 goes first", c0, c1)
	}
	rev2 := l.jsonpath("sts/db", "{.status.currentRevision}")
	if upd := l.jsonpath("sts/db", "{.status.updateRevision}"); rev2 == rev1 || upd != rev2 {
		t.Fatalf("revisions before %s, after current %s update %s", rev1, rev2, upd)
	}
	for _, p := range []string{"db-0", "db-1"} {
		if got := l.jsonpath("pod/"+p, "{.spec.hostname}.{.spec.subdomain} {.metadata.labels.controller-revision-hash}"); got != p+".db "+rev2 {
			t.Fatalf("pod %s: %q", p, got)
		}
	}
	l.k.ok("", "rollout", "undo", "statefulset/db")
	l.k.ok("", "rollout", "status", "statefulset/db", "--timeout=180s")
	if got := l.jsonpath("sts/db", "{.status.currentRevision} {.status.readyReplicas}"); got != rev1+" 2" {
		t.Fatalf("after undo current revision and ready %q, want %s 2", got, rev1)
	}
}

// checkStableStorage: store-0 runs on the claim data-store-0 made from
// the template; deleted, the pod is made again on the same claim, its
// data still there, and the claim (retained) has no owner.
func checkStableStorage(t *testing.T, l *agentLab) {
	t.Helper()
	if got := l.jsonpath("pvc/data-store-0", "{.status.phase} {.metadata.labels.app} {.metadata.ownerReferences}"); got != "Bound store " {
		t.Fatalf("claim data-store-0: %q", got)
	}
	l.k.ok("", "exec", "store-0", "--", "sh", "-c", "echo kept > /data/f")
	uid := l.jsonpath("pod/store-0", "{.metadata.uid}")
	l.k.ok("", "delete", "pod", "store-0", "--wait=false")
	framework.Eventually(t, 90*time.Second, 200*time.Millisecond, "store-0 made again and ready", func() error {
		got := l.jsonpath("pod/store-0", "{.metadata.uid} {.status.conditions[?(@.type=='Ready')].status}")
		if strings.HasPrefix(got, uid) || !strings.HasSuffix(got, " True") {
			return fmt.Errorf("store-0: %q (was %s)", got, uid)
		}
		return nil
	})
	if out := strings.TrimSpace(l.k.ok("", "exec", "store-0", "--", "cat", "/data/f")); out != "kept" {
		t.Fatalf("data after the pod was made again: %q", out)
	}
}

// daemonAndDBYAML is a DaemonSet "agent" and a StatefulSet "db" of two
// probed pods behind the headless Service "db".
const daemonAndDBYAML = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: agent
        image: 127.0.0.1:5000/nodeagent/testserver:v1
        args: [pause]
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: db
        image: 127.0.0.1:5000/nodeagent/testserver:v1
        args: [serve, --http, ":8080"]
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
`
