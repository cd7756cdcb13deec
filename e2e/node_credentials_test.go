//go:build linux && e2e

package e2e

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

const credsPod = `apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: app}
stringData: {password: s3cret}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: app}
data: {MODE: matrix}
---
apiVersion: v1
kind: Pod
metadata: {name: user, namespace: app}
spec:
  containers:
  - name: web
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [serve, --http, ":8080"]
    env:
    - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
    envFrom: [{configMapRef: {name: settings}}]
`

// The agent runs with its node's credentials, which now reach only what
// the node's pods use: a pod in a namespace of its own still gets its
// Secret and ConfigMap, and the node still reads nothing else of theirs.
func TestPodGetsItsSecretAndConfigMapWithNodeCredentials(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(credsPod, "apply", "-f", "-")
	var ip netip.Addr
	framework.Eventually(t, 90*time.Second, 200*time.Millisecond, "pod app/user Running", func() error {
		out, _, err := l.k.run("", "get", "pod", "user", "-n", "app", "-o", "jsonpath={.status.phase} {.status.podIP}")
		phase, addr, _ := strings.Cut(out, " ")
		if err != nil || phase != "Running" {
			return fmt.Errorf("%q %v", out, err)
		}
		ip, err = netip.ParseAddr(addr)
		return err
	})
	var env string
	var err error
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, "the pod answers", func() error {
		env, err = l.get("http://" + ip.String() + ":8080/env")
		return err
	})
	for _, want := range []string{"DB_PASSWORD=s3cret\n", "MODE=matrix\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %q:\n%s", want, env)
		}
	}
	node := &kctl{t: t, srv: l.srv, bin: kubectls[0], kubeconfig: mintNodeKubeconfig(t, l.srv, nodeName)}
	node.ok("", "get", "secret", "db", "-n", "app")
	l.k.ok("apiVersion: v1\nkind: Secret\nmetadata: {name: other, namespace: app}\nstringData: {k: v}\n", "apply", "-f", "-")
	if got := node.fails("", "get", "secret", "other", "-n", "app"); !strings.Contains(got, "no relationship found between node '"+nodeName+"' and this object") {
		t.Errorf("node reading a secret no pod of it uses: %s", got)
	}
}
