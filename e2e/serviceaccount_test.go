//go:build linux && e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
