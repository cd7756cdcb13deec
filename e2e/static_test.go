//go:build linux && e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

const staticManifest = `apiVersion: v1
kind: Pod
metadata: {name: static-web, namespace: default}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [serve, --http, ":8080"]
`

// TestStaticPodWithoutAPIServer runs the agent alone, its kubeconfig
// pointing at an address where nothing listens yet: the manifest's pod runs
// all the same. Once the server is up, its mirror pod shows in the API on
// this node, Running; removing the manifest stops the pod and the mirror
// pod goes.
func TestStaticPodWithoutAPIServer(t *testing.T) {
	requireAgentDeps(t)
	node := framework.NewLab(t)
	dirs := framework.NewNodeDirs(t, node, nodeName)
	// The server runs once to make its CA, for the node's credentials, and
	// is stopped: nothing listens on 127.0.0.1:6443 in the lab node.
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	kc := mintNodeKubeconfig(t, srv, nodeName)
	srv.Stop()
	if c, err := node.DialContext(context.Background(), "tcp", "127.0.0.1:6443"); err == nil {
		c.Close()
		t.Fatal("something still listens on 127.0.0.1:6443 in the lab node")
	}

	manifests := t.TempDir()
	manifest := filepath.Join(manifests, "web.yaml")
	if err := os.WriteFile(manifest, []byte(staticManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	// Without an API server there is no Node to take a pod range from:
	// a node that starts alone is given one, as a standalone kubelet's
	// network is.
	args := append([]string{"agent", "--kubeconfig", kc, "--pod-manifest-path", manifests, "--pod-cidr", "10.244.0.0/24"}, dirs.AgentArgs(nodeName)...)
	framework.StartProcess(t, node, "agent", args...)
	key := "static-web-" + nodeName + "/web"
	framework.Eventually(t, 90*time.Second, 200*time.Millisecond, "the static pod's container runs with no API server", func() error {
		if framework.AppContainerPids(t, dirs.Namespace)[key] == 0 {
			return fmt.Errorf("no running %s in containerd namespace %s", key, dirs.Namespace)
		}
		return nil
	})
	pid := framework.AppContainerPids(t, dirs.Namespace)[key]

	srv.Start()
	l := &agentLab{node: node, srv: srv, dirs: dirs, k: &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}}
	mirror := "pod/static-web-" + nodeName
	l.waitFor(t, 90*time.Second, mirror, "{.spec.nodeName} {.status.phase}", nodeName+" Running")
	if a := l.jsonpath(mirror, "{.metadata.annotations.kubernetes\\.io/config\\.mirror}"); a == "" {
		t.Errorf("%s has no kubernetes.io/config.mirror annotation", mirror)
	}
	// The API server takes it from the node only owned by the node's Node
	// and naming no service account.
	owner := l.jsonpath(mirror, "{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].controller} sa={.spec.serviceAccountName}")
	if want := "Node/" + nodeName + " true sa="; owner != want {
		t.Errorf("%s owner and service account: %q, want %q", mirror, owner, want)
	}
	if got := framework.AppContainerPids(t, dirs.Namespace)[key]; got != pid {
		t.Fatalf("the static pod's container was restarted when the API server came: pid %d, then %d", pid, got)
	}
	line := squash(l.k.ok("", "get", "pods", "--no-headers"))
	if !strings.HasPrefix(line, "static-web-"+nodeName+" 1/1 Running 0 ") {
		t.Errorf("kubectl get pods: %q", line)
	}

	if err := os.Remove(manifest); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, "the static pod stops and its mirror goes", func() error {
		if framework.AppContainerPids(t, dirs.Namespace)[key] != 0 {
			return fmt.Errorf("%s still runs", key)
		}
		if _, errOut, err := l.k.run("", "get", mirror); err == nil || !strings.Contains(errOut, "NotFound") {
			return fmt.Errorf("%s still in the API", mirror)
		}
		return nil
	})
}
