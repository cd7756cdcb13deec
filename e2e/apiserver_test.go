//go:build linux && e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/internal/syncbuf"
)

// kubectls are the real kubectl binaries the API is tried with: the
// machine's default and an older one.
var kubectls = []string{"/usr/bin/kubectl", "/usr/lib/google-cloud-sdk/bin/kubectl.1.27"}

const podYAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: web
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    ports: [{containerPort: 8080}]
`

const badPodYAML = `apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  containers:
  - name: web
    image: ""
`

func requireAPIServerDeps(t *testing.T) {
	framework.RequireRoot(t)
	framework.RequireBinaries(t, kubectls...)
	framework.Binary(t)
}

// kctl runs one kubectl in the lab against the server.
type kctl struct {
	t          *testing.T
	srv        *framework.APIServer
	bin        string
	kubeconfig string
	dir        string
}

func (k *kctl) run(stdin string, args ...string) (string, string, error) {
	var in []byte
	if stdin != "" {
		in = []byte(stdin)
	}
	return k.srv.Kubectl(k.bin, k.kubeconfig, in, args...)
}

// ok runs kubectl and fails the test unless it succeeds.
func (k *kctl) ok(stdin string, args ...string) string {
	k.t.Helper()
	out, errOut, err := k.run(stdin, args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// fails runs kubectl, wants it to fail, and returns stderr.
func (k *kctl) fails(stdin string, args ...string) string {
	k.t.Helper()
	out, errOut, err := k.run(stdin, args...)
	if err == nil {
		k.t.Fatalf("kubectl %s succeeded, want an error\nstdout: %s", strings.Join(args, " "), out)
	}
	return strings.TrimSpace(errOut)
}

var spaces = regexp.MustCompile(`\s+`)

func squash(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }

func TestKubectlAgainstServer(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	for i, bin := range kubectls {
		t.Run(filepath.Base(bin), func(t *testing.T) {
			k := &kctl{t: t, srv: srv, bin: bin, kubeconfig: srv.Kubeconfig(), dir: t.TempDir()}
			kubectlScenario(t, k, fmt.Sprintf("e2e-%d", i))
		})
	}
}

func kubectlScenario(t *testing.T, k *kctl, ns string) {
	if out := k.ok("", "create", "namespace", ns); squash(out) != "namespace/"+ns+" created" {
		t.Fatalf("create namespace: %q", out)
	}
	if out := k.ok(podYAML, "apply", "-n", ns, "-f", "-"); squash(out) != "pod/web created" {
		t.Fatalf("apply: %q", out)
	}
	if out := k.ok(podYAML, "apply", "-n", ns, "-f", "-"); squash(out) != "pod/web unchanged" {
		t.Fatalf("apply again: %q", out)
	}
	wide := k.ok("", "get", "pods", "-n", ns, "-o", "wide")
	lines := strings.Split(strings.TrimSpace(wide), "\n")
	if len(lines) != 2 || squash(lines[0]) != "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES" ||
		!strings.HasPrefix(squash(lines[1]), "web 0/1 Pending 0 ") {
		t.Fatalf("get pods -o wide:\n%s", wide)
	}
	yaml := k.ok("", "get", "pod", "web", "-n", ns, "-o", "yaml")
	for _, want := range []string{"restartPolicy: Always", "imagePullPolicy: IfNotPresent", "uid: ", "resourceVersion: "} {
		if !strings.Contains(yaml, want) {
			t.Errorf("get -o yaml lacks %q:\n%s", want, yaml)
		}
	}
	watchSeesLabel(t, k, ns)
	desc := k.ok("", "describe", "pod", "web", "-n", ns)
	if !regexp.MustCompile(`(?m)^Name:\s+web$`).MatchString(desc) || !regexp.MustCompile(`(?m)^Status:\s+Pending$`).MatchString(desc) {
		t.Errorf("describe:\n%s", desc)
	}
	if out := k.ok("", "patch", "pod", "web", "-n", ns, "-p", `{"metadata":{"annotations":{"edited":"yes"}}}`); squash(out) != "pod/web patched" {
		t.Errorf("patch: %q", out)
	}
	if out := k.ok("", "get", "pod", "web", "-n", ns, "-o", "jsonpath={.metadata.annotations.edited}"); out != "yes" {
		t.Errorf("annotation after patch: %q", out)
	}
	if got := k.fails(badPodYAML, "apply", "-n", ns, "-f", "-"); got != `The Pod "bad" is invalid: spec.containers[0].image: Required value` {
		t.Errorf("invalid manifest: %q", got)
	}
	if out := k.ok("", "delete", "pod", "web", "-n", ns); squash(out) != `pod "web" deleted` {
		t.Errorf("delete: %q", out)
	}
	if got := k.fails("", "get", "pod", "web", "-n", ns); got != `Error from server (NotFound): pods "web" not found` {
		t.Errorf("get after delete: %q", got)
	}
	// Everything namespaced goes with the namespace, workloads and RBAC
	// bindings too: a namespace made again with its name starts empty.
	k.ok("", "create", "deployment", "gone-with-ns", "--image="+testImage, "-n", ns)
	k.ok("", "create", "rolebinding", "gone-with-ns", "--clusterrole=view", "--user=jane", "-n", ns)
	k.ok("", "delete", "namespace", ns)
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "namespace "+ns+" removed", func() error {
		_, errOut, err := k.run("", "get", "namespace", ns)
		if err == nil || !strings.Contains(errOut, "NotFound") {
			return fmt.Errorf("still there: %s", errOut)
		}
		return nil
	})
	k.ok("", "create", "namespace", ns)
	if out := k.ok("", "get", "deployments,replicasets,rolebindings", "-n", ns, "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("a namespace made again holds the old one's objects: %q", out)
	}
	k.ok("", "delete", "namespace", ns, "--wait=false")
}

// watchSeesLabel runs `kubectl get pods -w` and checks that labelling the
// pod shows up as a new line.
func watchSeesLabel(t *testing.T, k *kctl, ns string) {
	var buf syncbuf.Buffer
	cmd := exec.Command(k.bin, "--kubeconfig", k.kubeconfig, "get", "pods", "-n", ns, "-w", "--no-headers")
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := k.srv.StartIn(cmd); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := func(n int) func() error {
		return func() error {
			if c := strings.Count(buf.String(), "\n"); c < n {
				return fmt.Errorf("%d lines: %q", c, buf.String())
			}
			return nil
		}
	}
	framework.Eventually(t, 20*time.Second, 100*time.Millisecond, "get -w prints the pod", lines(1))
	k.ok("", "label", "pod", "web", "-n", ns, "watched=yes")
	framework.Eventually(t, 20*time.Second, 100*time.Millisecond, "get -w prints the change", lines(2))
}

func TestForbiddenForOtherNode(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	admin := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	nodeKC := filepath.Join(t.TempDir(), "n1.kubeconfig")
	mint := exec.Command(framework.Binary(t), "kubeconfig", "node", "n1", "--data-dir", srv.DataDir, "--out", nodeKC)
	if out, err := mint.CombinedOutput(); err != nil {
		t.Fatalf("mint node kubeconfig: %v %s", err, out)
	}
	admin.ok("apiVersion: v1\nkind: Node\nmetadata: {name: n2}\n", "apply", "-f", "-")
	for _, bin := range kubectls {
		n1 := &kctl{t: t, srv: srv, bin: bin, kubeconfig: nodeKC}
		got := n1.fails("", "label", "node", "n2", "x=y")
		// kubectl reads the node first; a node reads only its own Node.
		want := `Error from server (Forbidden): nodes "n2" is forbidden: User "system:node:n1" cannot get resource "nodes" in API group "" at the cluster scope: node: node 'n1' cannot read 'n2', only its own Node object`
		if got != want {
			t.Errorf("%s: node n1 labelling n2:\n got %s\nwant %s", bin, got, want)
		}
	}
	if st, err := os.Stat(nodeKC); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("node kubeconfig mode: %v %v", st.Mode(), err)
	}
}

func TestServerSurvivesKill9(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	k.ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\ndata: {k: v}\n", "apply", "-f", "-")
	k.ok(podYAML, "apply", "-f", "-")
	before := k.ok("", "get", "configmap/keep", "pod/web", "-o", "jsonpath={range .items[*]}{.metadata.uid} {.metadata.resourceVersion}{\"\\n\"}{end}")
	srv.Kill9()
	srv.Start()
	after := k.ok("", "get", "configmap/keep", "pod/web", "-o", "jsonpath={range .items[*]}{.metadata.uid} {.metadata.resourceVersion}{\"\\n\"}{end}")
	if before != after || strings.Count(after, "\n") != 2 {
		t.Fatalf("uids and resourceVersions changed across kill -9:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if out := k.ok("", "get", "configmap", "keep", "-o", "jsonpath={.data.k}"); out != "v" {
		t.Fatalf("data after restart: %q", out)
	}
}
