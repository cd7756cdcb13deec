//go:build linux && e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/e2e/framework"
)

const dataClaim = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 256Mi}}
`

// claimPod is a pod that uses the claim "data"; node pins it to a node
// without the scheduler ("" lets the scheduler place it).
func classClaimPod(name, node string) string {
	pin := ""
	if node != "" {
		pin = "  nodeName: " + node + "\n"
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
%s  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [pause]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
`, name, pin)
}

// The control plane of volumes, as kubectl shows it: the default class; a
// claim without a class waits for its first consumer, is provisioned on
// the node its pod is scheduled to (node affinity) and bound, and the
// volume attached there; a pod on a second node (a second agent in the
// same lab node) waits with kube's Multi-Attach event; deleting the pods
// and the claim deletes the volume (reclaim Delete) and its attachment.
func TestVolumeControlPlaneWithKubectl(t *testing.T) {
	l := startAgentLab(t)
	k := l.k
	if got := squash(k.ok("", "get", "storageclass", "--no-headers")); !strings.HasPrefix(got,
		"nodeagent-local (default) local.nodeagent.io Delete WaitForFirstConsumer false ") {
		t.Fatalf("kubectl get storageclass: %q", got)
	}
	k.ok(dataClaim, "create", "-f", "-")
	l.waitFor(t, 30*time.Second, "pvc/data", "{.spec.storageClassName}", localvolume.DefaultClass)
	waitEvent(t, l, "pvc/data", "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
	if got := l.jsonpath("pvc/data", "{.status.phase}"); got != "Pending" {
		t.Fatalf("claim before any pod: %s", got)
	}

	k.ok(classClaimPod("writer", ""), "create", "-f", "-")
	l.waitFor(t, 60*time.Second, "pvc/data", "{.status.phase}", "Bound")
	l.waitFor(t, 30*time.Second, "pod/writer", "{.spec.nodeName}", nodeName)
	uid := l.jsonpath("pvc/data", "{.metadata.uid}")
	pv := "pvc-" + uid
	if got := l.jsonpath("pvc/data", "{.spec.volumeName}"); got != pv {
		t.Fatalf("claim bound to %q, want %q", got, pv)
	}
	if got := l.jsonpath("pv/"+pv, "{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]}"); got !=
		`{"key":"kubernetes.io/hostname","operator":"In","values":["`+nodeName+`"]}` {
		t.Errorf("node affinity %s", got)
	}
	if got := l.jsonpath("pv/"+pv, "{.spec.csi.driver} {.spec.csi.volumeHandle} {.spec.csi.fsType} {.spec.csi.volumeAttributes.backing} {.spec.csi.volumeAttributes.size}"); got !=
		"local.nodeagent.io "+pv+" ext4 file 268435456" {
		t.Errorf("volume source %q", got)
	}
	if got := squash(k.ok("", "get", "pv", pv, "--no-headers")); !strings.HasPrefix(got, pv+" 256Mi RWO Delete Bound default/data nodeagent-local ") {
		t.Errorf("kubectl get pv: %q", got)
	}
	va := localvolume.AttachmentName(pv, localvolume.Driver, nodeName)
	l.waitFor(t, 30*time.Second, "volumeattachment/"+va, "{.status.attached}", "true")

	second := framework.UniqueName("lab-b-")
	startSecondAgent(t, l, second)
	k.ok(classClaimPod("reader", second), "create", "-f", "-")
	waitEvent(t, l, "pod/reader", "FailedAttachVolume",
		fmt.Sprintf(`Multi-Attach error for volume %q Volume is already used by pod(s) writer`, pv))
	if out := k.ok("", "get", "volumeattachment", "-o", "jsonpath={range .items[*]}{.spec.nodeName} {end}"); strings.TrimSpace(out) != nodeName {
		t.Errorf("attachments on nodes %q, want only %s", out, nodeName)
	}

	k.ok("", "delete", "pod", "writer", "reader", "--wait=true", "--timeout=60s")
	k.ok("", "delete", "pvc", "data", "--wait=true", "--timeout=60s")
	waitNoVolumes(t, k)

	// A generic ephemeral volume: the claim <pod>-<volume>, owned by the
	// pod, provisioned on its node, and gone with it.
	k.ok(ephemeralPod, "create", "-f", "-")
	l.waitFor(t, 60*time.Second, "pvc/scratch-cache", "{.status.phase}", "Bound")
	if got := l.jsonpath("pvc/scratch-cache", "{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.labels.app}"); got != "Pod/scratch scratch" {
		t.Errorf("ephemeral claim owner and labels: %q", got)
	}
	var on string
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "the pod scheduled", func() error {
		if on = l.jsonpath("pod/scratch", "{.spec.nodeName}"); on == "" {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	scratchPV := l.jsonpath("pvc/scratch-cache", "{.spec.volumeName}")
	if got := l.jsonpath("pv/"+scratchPV, "{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}"); got != on {
		t.Errorf("ephemeral volume on node %q, its pod on %q", got, on)
	}
	k.ok("", "delete", "pod", "scratch", "--wait=true", "--timeout=60s")
	waitNoVolumes(t, k)
	if out := strings.TrimSpace(k.ok("", "get", "pvc", "--no-headers", "-o", "name")); out != "" {
		t.Errorf("claims left: %s", out)
	}
}

const ephemeralPod = `apiVersion: v1
kind: Pod
metadata: {name: scratch}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [pause]
    volumeMounts: [{name: cache, mountPath: /cache}]
  volumes:
  - name: cache
    ephemeral:
      volumeClaimTemplate:
        metadata: {labels: {app: scratch}}
        spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 64Mi}}}
`

// waitNoVolumes waits until no volume and no attachment is left.
func waitNoVolumes(t *testing.T, k *kctl) {
	t.Helper()
	framework.Eventually(t, 60*time.Second, 250*time.Millisecond, "the volumes and attachments deleted", func() error {
		out := k.ok("", "get", "pv,volumeattachment", "--no-headers", "-o", "name")
		if strings.TrimSpace(out) != "" {
			return fmt.Errorf("left: %s", out)
		}
		return nil
	})
}

// startSecondAgent runs `nodeagent agent` for node name in the lab node,
// beside the server's own agent: its own state, port and credentials, no
// service proxy (the first agent's serves the lab node). It has no
// --pod-cidr: the server's node IPAM gives its Node the next free range
// (the server's own agent keeps 10.244.0.0/24), which the agent takes.
func startSecondAgent(t *testing.T, l *agentLab, name string) {
	t.Helper()
	dirs := framework.NewNodeDirs(t, l.node, name)
	args := append([]string{"agent"}, agentCredentials(t, l.srv, name)...)
	args = append(args, dirs.AgentArgs(name)...)
	args = append(args, "--port", "10252", "--healthz-port", "0", "--disable-proxy")
	framework.StartProcess(t, l.node, "agent-"+name, args...)
	l.waitFor(t, 60*time.Second, "node/"+name, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	l.waitFor(t, 10*time.Second, "node/"+name, "{.spec.podCIDR}", "10.244.1.0/24")
}

// waitEvent waits for an event of reason on obj whose message contains msg.
func waitEvent(t *testing.T, l *agentLab, obj, reason, msg string) {
	t.Helper()
	kind, name, _ := strings.Cut(obj, "/")
	kinds := map[string]string{"pvc": "PersistentVolumeClaim", "pod": "Pod", "pv": "PersistentVolume"}
	framework.Eventually(t, 60*time.Second, 250*time.Millisecond, reason+" event on "+obj, func() error {
		out, _, err := l.k.run("", "get", "events", "--field-selector", "involvedObject.kind="+kinds[kind]+",involvedObject.name="+name+",reason="+reason,
			"-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")
		if err != nil || !strings.Contains(out, msg) {
			return fmt.Errorf("events %q %v", out, err)
		}
		return nil
	})
}

// A token the server signs for a pod's service account is accepted by the
// API as that service account (kubectl auth whoami), for as long as the
// pod exists.
func TestServiceAccountTokenWithKubectl(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	framework.Eventually(t, 30*time.Second, 250*time.Millisecond, "the default service account", func() error {
		_, _, err := k.run("", "get", "serviceaccount", "default")
		return err
	})
	k.ok(`apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  schedulerName: nobody
  containers: [{name: c, image: 127.0.0.1:5000/nodeagent/testserver:v1}]
`, "create", "-f", "-")
	token := strings.TrimSpace(k.ok("", "create", "token", "default", "--bound-object-kind", "Pod", "--bound-object-name", "app"))
	asToken := tokenKubeconfig(t, srv, token)
	sa := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: asToken}
	if got := squash(sa.ok("", "auth", "whoami")); !strings.Contains(got, "Username system:serviceaccount:default:default") ||
		!strings.Contains(got, "authentication.kubernetes.io/pod-name [app]") {
		t.Errorf("kubectl auth whoami: %q", got)
	}
	if got := sa.fails("", "get", "pods"); !strings.Contains(got, `User "system:serviceaccount:default:default" cannot list resource "pods"`) {
		t.Errorf("the service account lists pods: %q", got)
	}
	k.ok("", "delete", "pod", "app", "--grace-period=0", "--force")
	if got := sa.fails("", "auth", "whoami"); !strings.Contains(got, "Unauthorized") {
		t.Errorf("token of a deleted pod: %q", got)
	}
}

// tokenKubeconfig is a kubeconfig for the lab's server with only a bearer
// token.
func tokenKubeconfig(t *testing.T, srv *framework.APIServer, token string) string {
	t.Helper()
	return caTokenKubeconfig(t, filepath.Join(srv.DataDir, "pki", "ca.crt"), token)
}

// caTokenKubeconfig is a kubeconfig for the lab's server that trusts only
// the CA in caFile and has only a bearer token.
func caTokenKubeconfig(t *testing.T, caFile, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token.kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: lab, cluster: {server: "https://127.0.0.1:6443", certificate-authority: %q}}]
users: [{name: sa, user: {token: %q}}]
contexts: [{name: lab, context: {cluster: lab, user: sa}}]
current-context: lab
`, caFile, token)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
