//go:build linux && e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/lab"
)

const identityPod = `apiVersion: v1
kind: Pod
metadata: {name: ident}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [pause]
`

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// A pod's in-cluster identity, as kube-apiserver gives it: ServiceAccount
// admission adds the kube-api-access volume; in the running container the
// token (read with kubectl exec) is accepted by the API server as
// system:serviceaccount:default:default bound to the pod, the ca.crt beside
// it (the root CA publisher's kube-root-ca.crt) verifies the server, the
// namespace file names the namespace, and the mount is read-only.
func TestPodServiceAccountIdentity(t *testing.T) {
	l := startAgentLab(t)
	k := l.k
	k.ok(identityPod, "create", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/ident", "{.status.phase}", "Running")
	if got := l.jsonpath("pod/ident", "{.spec.serviceAccountName} {.spec.containers[0].volumeMounts[0].mountPath}"); got != "default "+saDir {
		t.Errorf("account and mount: %q", got)
	}

	token := k.ok("", "exec", "ident", "--", "cat", saDir+"/token")
	ca := k.ok("", "exec", "ident", "--", "cat", saDir+"/ca.crt")
	if ns := k.ok("", "exec", "ident", "--", "cat", saDir+"/namespace"); ns != "default" {
		t.Errorf("namespace file: %q", ns)
	}
	if published := l.jsonpath("configmap/kube-root-ca.crt", `{.data.ca\.crt}`); published != ca {
		t.Errorf("ca.crt in the pod differs from kube-root-ca.crt")
	}
	caFile := filepath.Join(t.TempDir(), "pod-ca.crt")
	if err := os.WriteFile(caFile, []byte(ca), 0o600); err != nil {
		t.Fatal(err)
	}
	sa := &kctl{t: t, srv: l.srv, bin: kubectls[0], kubeconfig: caTokenKubeconfig(t, caFile, token)}
	got := squash(sa.ok("", "auth", "whoami"))
	t.Logf("kubectl auth whoami with the pod's token and CA: %s", got)
	if !strings.Contains(got, "Username system:serviceaccount:default:default") || !strings.Contains(got, "authentication.kubernetes.io/pod-name [ident]") {
		t.Errorf("kubectl auth whoami with the pod's token and CA: %q", got)
	}
	if out := k.fails("", "exec", "ident", "--", "sh", "-c", "echo x > "+saDir+"/token"); !strings.Contains(out, "Read-only file system") {
		t.Errorf("writing the token: %q", out)
	}
}

// apiAddr is the lab node's address in TestInClusterClientGo (a
// benchmarking range: nothing outside the lab's namespace ever sees it).
const apiAddr = "198.18.0.1"

const listerYAML = `apiVersion: v1
kind: ServiceAccount
metadata: {name: lister}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-lister}
rules:
- {apiGroups: [""], resources: [pods], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: lister-lists-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-lister}
subjects:
- {kind: ServiceAccount, name: lister, namespace: default}
---
apiVersion: v1
kind: Pod
metadata: {name: lister}
spec:
  serviceAccountName: lister
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [pause]
`

// TestInClusterClientGo: an app in a pod builds its client with
// client-go's rest.InClusterConfig (the Service variables, the projected
// token and CA) and reaches the API through the kubernetes Service; RBAC
// gives its ServiceAccount exactly the pod list its Role grants and
// kube's 403 for secrets and for another namespace.
func TestInClusterClientGo(t *testing.T) {
	requireAgentDeps(t)
	// The lab node gets an address pods can reach (the usual one,
	// loopback, is the pods' own), and the server is advertised there, so
	// the kubernetes Service leads to it.
	node := framework.NewLab(t)
	if out, err := runIn(node, "ip", "addr", "add", apiAddr+"/32", "dev", "lo"); err != nil {
		t.Fatalf("ip addr add: %v %s", err, out)
	}
	l := startAgentLabOn(t, node, "--bind-address", "0.0.0.0", "--advertise-address", apiAddr)
	l.k.ok(listerYAML, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/lister", "{.status.phase}", "Running")
	kube := func(path string) (int, string) {
		t.Helper()
		out, errOut, _ := l.k.run("", "exec", "lister", "--", "testserver", "kube", path)
		code, body, _ := strings.Cut(out, "\n")
		n, err := strconv.Atoi(code)
		if err != nil {
			t.Fatalf("testserver kube %s: %q %q", path, out, errOut)
		}
		return n, body
	}
	code, body := kube("/api/v1/namespaces/default/pods")
	var pods corev1.PodList
	if err := json.Unmarshal([]byte(body), &pods); code != 200 || err != nil || len(pods.Items) == 0 {
		t.Fatalf("list pods in-cluster: %d %v %.200s", code, err, body)
	}
	if !slices.ContainsFunc(pods.Items, func(p corev1.Pod) bool { return p.Name == "lister" }) {
		t.Fatalf("the pod list lacks the pod itself: %.300s", body)
	}
	for path, msg := range map[string]string{
		"/api/v1/namespaces/default/secrets":  `secrets is forbidden: User \"system:serviceaccount:default:lister\" cannot list resource \"secrets\" in API group \"\" in the namespace \"default\"`,
		"/api/v1/namespaces/kube-system/pods": `pods is forbidden: User \"system:serviceaccount:default:lister\" cannot list resource \"pods\" in API group \"\" in the namespace \"kube-system\"`,
	} {
		if code, body := kube(path); code != 403 || !strings.Contains(body, msg) {
			t.Errorf("%s in-cluster: %d %s, want 403 %s", path, code, body, msg)
		}
	}
}

// runIn runs a command inside the lab node and returns its output.
func runIn(node *lab.Node, name string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := node.Run(cmd)
	return out.Bytes(), err
}
