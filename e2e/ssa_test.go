//go:build linux && e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

const ssaDeploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {tier: front, team: a}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: 127.0.0.1:5000/nodeagent/testserver:v1
        ports: [{containerPort: 8080}]
`

const ssaConfigMapYAML = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1", b: "2"}
`

// Server-side apply with real kubectls: kubectl apply --server-side of a
// Deployment and a ConfigMap, a second manager's conflicting apply refused
// with kube's message, --force-conflicts taking the field over, a field
// left out of the next applied configuration removed, and client-side
// kubectl apply of another object still working.
func TestServerSideApplyWithKubectl(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	for i, bin := range kubectls {
		t.Run(filepath.Base(bin), func(t *testing.T) {
			k := &kctl{t: t, srv: srv, bin: bin, kubeconfig: srv.Kubeconfig(), dir: t.TempDir()}
			ssaScenario(t, k, fmt.Sprintf("ssa-%d", i))
		})
	}
}

func ssaScenario(t *testing.T, k *kctl, ns string) {
	k.ok("", "create", "namespace", ns)
	out := k.ok(ssaDeploymentYAML+"---\n"+ssaConfigMapYAML, "apply", "--server-side", "-n", ns, "-f", "-")
	if squash(out) != "deployment.apps/web serverside-applied configmap/settings serverside-applied" {
		t.Fatalf("server-side apply: %q", out)
	}
	if got := k.ok("", "get", "deployment", "web", "-n", ns, "-o", "jsonpath={.metadata.managedFields[0].manager}/{.metadata.managedFields[0].operation}"); got != "kubectl/Apply" {
		t.Fatalf("managed fields after apply: %q", got)
	}

	// ops applies only the replicas it manages.
	scaled := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n"
	errOut := k.fails(scaled, "apply", "--server-side", "--field-manager=ops", "-n", ns, "-f", "-")
	if !strings.Contains(errOut, `Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas`) {
		t.Fatalf("conflicting apply: %q", errOut)
	}
	cmConflict := strings.Replace(ssaConfigMapYAML, `b: "2"`, `b: "3"`, 1)
	errOut = k.fails(cmConflict, "apply", "--server-side", "--field-manager=ops", "-n", ns, "-f", "-")
	if !strings.Contains(errOut, `Apply failed with 1 conflict: conflict with "kubectl": .data.b`) {
		t.Fatalf("conflicting configmap apply: %q", errOut)
	}
	k.ok(scaled, "apply", "--server-side", "--field-manager=ops", "--force-conflicts", "-n", ns, "-f", "-")
	if got := k.ok("", "get", "deployment", "web", "-n", ns, "-o", "jsonpath={.spec.replicas}"); got != "3" {
		t.Fatalf("replicas after the forced apply: %q", got)
	}

	// kubectl's applied configuration without label team and data b: both
	// are removed (b is kubectl's alone since ops's apply was refused);
	// replicas, now ops's, is left out too, or kubectl would conflict.
	smaller := strings.Replace(strings.Replace(ssaDeploymentYAML, ", team: a", "", 1), "  replicas: 2\n", "", 1)
	k.ok(smaller+"---\n"+strings.Replace(ssaConfigMapYAML, `, b: "2"`, "", 1), "apply", "--server-side", "-n", ns, "-f", "-")
	if got := k.ok("", "get", "deployment", "web", "-n", ns, "-o", "jsonpath={.metadata.labels}"); got != `{"tier":"front"}` {
		t.Fatalf("labels after the smaller apply: %q", got)
	}
	if got := k.ok("", "get", "configmap", "settings", "-n", ns, "-o", "jsonpath={.data}"); got != `{"a":"1"}` {
		t.Fatalf("data after the smaller apply: %q", got)
	}
	if got := k.ok("", "get", "deployment", "web", "-n", ns, "-o", "jsonpath={.spec.replicas}"); got != "3" {
		t.Fatalf("ops's replicas after kubectl's apply: %q", got)
	}

	// Client-side apply (last-applied annotation, strategic merge) of
	// another object, created and then changed.
	csa := strings.Replace(ssaConfigMapYAML, "settings", "client", 1)
	if out := k.ok(csa, "apply", "-n", ns, "-f", "-"); squash(out) != "configmap/client created" {
		t.Fatalf("client-side apply: %q", out)
	}
	if out := k.ok(strings.Replace(csa, `b: "2"`, `b: "5"`, 1), "apply", "-n", ns, "-f", "-"); squash(out) != "configmap/client configured" {
		t.Fatalf("client-side apply again: %q", out)
	}
	if got := k.ok("", "get", "configmap", "client", "-n", ns, "-o", "jsonpath={.data.b}"); got != "5" {
		t.Fatalf("client-side applied data: %q", got)
	}
	if out := k.ok("", "get", "configmap", "client", "-n", ns, "-o", "yaml"); strings.Contains(out, "managedFields") {
		t.Fatalf("kubectl get -o yaml shows managed fields: %s", out)
	}
}
