//go:build e2e && compat

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/version"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/lab"
)

// compatWebYAML is an ordinary Deployment (the default ServiceAccount, so
// the projected kube-api-access volume) behind a ClusterIP Service, a pod
// that calls the API with its token as client-go's in-cluster config does,
// and the RoleBinding that lets the default ServiceAccount list pods.
const compatWebYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: 127.0.0.1:5000/nodeagent/testserver:v1
        args: [serve, --http, ":8080"]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`

const compatCallerYAML = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: default-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: ServiceAccount, name: default, namespace: default}
---
apiVersion: v1
kind: Pod
metadata: {name: caller}
spec:
  restartPolicy: OnFailure
  containers:
  - name: c
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [kube, /api/v1/namespaces/default/pods]
`

// controlPlaneBins are the real programs the test runs, built by `make
// compat` (hack/lib.sh build_kube and build_etcd).
type controlPlaneBins struct{ etcd, apiserver, controllerManager, scheduler string }

func controlPlaneBinsFromEnv(t *testing.T) controlPlaneBins {
	t.Helper()
	b := controlPlaneBins{etcd: os.Getenv("NODEAGENT_ETCD"), apiserver: os.Getenv("NODEAGENT_KUBE_APISERVER"),
		controllerManager: os.Getenv("NODEAGENT_KUBE_CONTROLLER_MANAGER"), scheduler: os.Getenv("NODEAGENT_KUBE_SCHEDULER")}
	if b.etcd == "" || b.apiserver == "" || b.controllerManager == "" || b.scheduler == "" {
		t.Fatalf("NODEAGENT_ETCD, NODEAGENT_KUBE_APISERVER, NODEAGENT_KUBE_CONTROLLER_MANAGER and NODEAGENT_KUBE_SCHEDULER must name the binaries (%+v); run `make compat`", b)
	}
	return b
}

// TestCompatAgentOnRealControlPlane runs nodeagent's agent and its proxy
// against a real control plane as kubelet and kube-proxy run against it:
// etcd, kube-apiserver with Node+RBAC authorization and the NodeRestriction
// and ServiceAccount admission plugins, kube-controller-manager (its
// default controllers, node IPAM among them) and kube-scheduler, all in a
// lab node; the agent with a node client certificate, its proxy with
// system:kube-proxy's. The Node registers, takes its pod range from the
// controller manager and goes Ready with a version the skew policy
// accepts; a Deployment's pods (projected service-account tokens from the
// TokenRequest API) run and are Ready; their Service answers from the lab
// node through the proxy; a pod's token lists pods at the API server;
// kubectl logs and exec reach the agent through kube-apiserver; a static
// pod's mirror pod is accepted.
func TestCompatAgentOnRealControlPlane(t *testing.T) {
	node, pki, k, milestone := newCompatControlPlane(t, func(controlPlanePKI) controlPlaneArgs { return controlPlaneArgs{} })
	milestone("etcd, kube-apiserver, kube-controller-manager and kube-scheduler ready")

	dirs := framework.NewNodeDirs(t, node, nodeName)
	manifests := t.TempDir()
	if err := os.WriteFile(filepath.Join(manifests, "web.yaml"), []byte(staticManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"agent", "--kubeconfig", pki.kubeconfig("node"), "--proxy-kubeconfig", pki.kubeconfig("kube-proxy"),
		"--tls-cert-file", pki.kubeletCert(), "--tls-private-key-file", pki.kubeletKey(),
		"--node-ip", apiAddr, "--pod-manifest-path", manifests}, dirs.AgentArgs(nodeName)...)
	agent := framework.StartProcess(t, node, "agent", args...)
	framework.Eventually(t, 90*time.Second, 250*time.Millisecond, "the Node Ready", func() error {
		return nodeReady(k, nodeName)
	})
	milestone("node registered and Ready")
	checkNodeVersion(t, k, nodeName)
	if cidr := k.ok("", "get", "node", nodeName, "-o", "jsonpath={.spec.podCIDR}"); !strings.HasPrefix(cidr, "10.244.") {
		t.Errorf("the Node's pod range from kube-controller-manager's node IPAM: %q", cidr)
	}

	k.ok(compatWebYAML, "apply", "-f", "-")
	framework.Eventually(t, 120*time.Second, 500*time.Millisecond, "the Deployment's two pods Ready", func() error {
		if got := k.ok("", "get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}"); got != "2" {
			return fmt.Errorf("readyReplicas %q; pods: %s", got, k.ok("", "get", "pods", "-o", "wide"))
		}
		return nil
	})
	milestone("Deployment web: 2 pods Running and Ready")
	checkProjectedToken(t, k)
	checkServiceAnswers(t, node, k)
	milestone("Service web answers from both pods through the proxy")

	k.ok(compatCallerYAML, "apply", "-f", "-")
	framework.Eventually(t, 120*time.Second, 500*time.Millisecond, "the caller pod lists pods with its token", func() error {
		if phase := k.ok("", "get", "pod", "caller", "-o", "jsonpath={.status.phase}"); phase != "Succeeded" {
			return fmt.Errorf("caller %s: %s", phase, k.ok("", "get", "pod", "caller", "-o", "jsonpath={.status.containerStatuses}"))
		}
		return nil
	})
	milestone("a pod's token listed pods at kube-apiserver")
	// kube-apiserver reaches the agent's API (its serving certificate
	// checked, its client certificate authorized by a SubjectAccessReview).
	if out := k.ok("", "logs", "caller"); !strings.HasPrefix(out, "200\n") || !strings.Contains(out, `"kind":"PodList"`) {
		t.Errorf("kubectl logs caller: %.300q, want 200 and the PodList", out)
	}
	if out := k.ok("", "exec", "deploy/web", "--", "testserver", "version"); strings.TrimSpace(out) != "v1" {
		t.Errorf("kubectl exec deploy/web -- testserver version: %q", out)
	}
	milestone("kubectl logs and exec through kube-apiserver to the agent")

	mirror := "static-web-" + nodeName
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "the static pod's mirror Running", func() error {
		out, _, err := k.run("", "get", "pod", mirror, "-o", "jsonpath={.status.phase}")
		if err != nil || out != "Running" {
			return fmt.Errorf("mirror pod %s: %q %v", mirror, out, err)
		}
		return nil
	})
	owner := k.ok("", "get", "pod", mirror, "-o", "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} sa={.spec.serviceAccountName}")
	if owner != "Node/"+nodeName+" sa=" {
		t.Errorf("mirror pod owner and service account: %q, want Node/%s and none", owner, nodeName)
	}
	milestone("static pod's mirror pod accepted (Node owner, no ServiceAccount)")
	checkAgentLog(t, agent.Log())
}

// cacheLagRefusals are what kube-apiserver answers a TokenRequest for a pod
// its own informers have not yet seen bound to the node (the Node
// authorizer's graph, NodeRestriction's pod lister): kubelet meets them
// too, and the retry is granted.
var cacheLagRefusals = []string{"no relationship found between node", "node requested token bound to a pod scheduled on a different node"}

// checkAgentLog: nothing the agent or its proxy asked for was refused on
// the way but cacheLagRefusals (the pods ran, so the retries were
// granted). No status update was lost to the controller manager's writes
// of the new Node (the node stayed NotReady a status interval).
func checkAgentLog(t *testing.T, log string) {
	t.Helper()
	lag := func(line string) bool {
		return strings.Contains(line, "failed to fetch token") && slices.ContainsFunc(cacheLagRefusals, func(m string) bool { return strings.Contains(line, m) })
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "forbidden") && !lag(line) {
			t.Errorf("kube-apiserver refused the agent: %s", line)
		}
		if strings.Contains(line, "node status update failed") {
			t.Errorf("a node status update failed: %s", line)
		}
	}
}

// startControlPlane starts etcd, kube-apiserver, kube-controller-manager
// and kube-scheduler in the lab node, every listener on its loopback or
// apiAddr, and waits until the API is ready and the controller manager has
// made the default ServiceAccount and the root CA ConfigMap pods need.
// extra holds flags a test adds to kube-apiserver's and the controller
// manager's.
func startControlPlane(t *testing.T, node *lab.Node, bins controlPlaneBins, pki controlPlanePKI, k *kctl, extra controlPlaneArgs) {
	t.Helper()
	data := t.TempDir()
	etcdURL, peerURL := "http://127.0.0.1:2379", "http://127.0.0.1:2380"
	framework.StartProcessOf(t, node, bins.etcd, "etcd", "--name=compat", "--data-dir="+filepath.Join(data, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=compat="+peerURL, "--initial-cluster-state=new", "--log-level=warn")
	apiserverArgs := []string{"--etcd-servers=" + etcdURL, "--bind-address=" + apiAddr, "--advertise-address=" + apiAddr, "--secure-port=6443",
		"--cert-dir=" + filepath.Join(data, "apiserver-certs"),
		"--tls-cert-file=" + pki.servingCert(), "--tls-private-key-file=" + pki.servingKey(),
		"--client-ca-file=" + pki.caCert(), "--anonymous-auth=false",
		"--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pki.saPub(), "--service-account-signing-key-file=" + pki.saKey(),
		"--service-cluster-ip-range=10.96.0.0/12",
		"--kubelet-client-certificate=" + pki.kubeletClientCert(), "--kubelet-client-key=" + pki.kubeletClientKey(),
		"--kubelet-certificate-authority=" + pki.caCert(), "--kubelet-preferred-address-types=InternalIP"}
	framework.StartProcessOf(t, node, bins.apiserver, "kube-apiserver", append(apiserverArgs, extra.apiserver...)...)
	framework.Eventually(t, 3*time.Minute, 500*time.Millisecond, "kube-apiserver ready", func() error {
		out, errOut, err := k.run("", "get", "--raw", "/readyz")
		if err != nil || out != "ok" {
			return fmt.Errorf("readyz: %q %q %v", out, errOut, err)
		}
		return nil
	})
	// As kube-up and kubeadm: kube-apiserver may use every kubelet API.
	k.ok("", "create", "clusterrolebinding", "kube-apiserver-kubelet-client",
		"--clusterrole=system:kubelet-api-admin", "--user=kube-apiserver-kubelet-client")
	kcmArgs := []string{"--kubeconfig=" + pki.kubeconfig("controller-manager"), "--use-service-account-credentials=true",
		"--service-account-private-key-file=" + pki.saKey(), "--root-ca-file=" + pki.caCert(),
		"--allocate-node-cidrs=true", "--cluster-cidr=10.244.0.0/16", "--node-cidr-mask-size=24",
		"--service-cluster-ip-range=10.96.0.0/12", "--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port=10257"}
	framework.StartProcessOf(t, node, bins.controllerManager, "kube-controller-manager", append(kcmArgs, extra.controllerManager...)...)
	framework.StartProcessOf(t, node, bins.scheduler, "kube-scheduler",
		"--kubeconfig="+pki.kubeconfig("scheduler"), "--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port=10259")
	framework.Eventually(t, 90*time.Second, 500*time.Millisecond, "the default ServiceAccount and kube-root-ca.crt", func() error {
		_, errOut, err := k.run("", "get", "serviceaccount/default", "configmap/kube-root-ca.crt")
		if err != nil {
			return fmt.Errorf("%v: %s", err, errOut)
		}
		return nil
	})
}

// controlPlaneArgs are flags added to the control plane's.
type controlPlaneArgs struct{ apiserver, controllerManager []string }

// nodeReady is nil once the Node's Ready condition is True.
func nodeReady(k *kctl, name string) error {
	out, errOut, err := k.run("", "get", "node", name, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
	if err != nil || out != "True" {
		return fmt.Errorf("node %s Ready=%q: %v %s", name, out, err, errOut)
	}
	return nil
}

// checkNodeVersion: the kubelet version the Node reports is one the
// version skew policy accepts against the server: not newer than
// kube-apiserver, at most three minor versions older.
func checkNodeVersion(t *testing.T, k *kctl, name string) {
	t.Helper()
	var info struct{ GitVersion string }
	if err := json.Unmarshal([]byte(k.ok("", "get", "--raw", "/version")), &info); err != nil {
		t.Fatal(err)
	}
	server, err := version.ParseSemantic(info.GitVersion)
	if err != nil {
		t.Fatal(err)
	}
	reported := k.ok("", "get", "node", name, "-o", "jsonpath={.status.nodeInfo.kubeletVersion}")
	kubelet, err := version.ParseSemantic(reported)
	if err != nil {
		t.Fatalf("the Node's kubeletVersion %q: %v", reported, err)
	}
	if kubelet.Major() != server.Major() || kubelet.Minor() > server.Minor() || server.Minor()-kubelet.Minor() > 3 || kubelet.GreaterThan(server) {
		t.Errorf("kubeletVersion %s against kube-apiserver %s: the skew policy wants it no newer and at most 3 minor versions older", reported, info.GitVersion)
	}
	t.Logf("kubeletVersion %s, kube-apiserver %s", reported, info.GitVersion)
}

// checkProjectedToken: the Deployment's pods have the projected
// kube-api-access volume that ServiceAccount admission adds.
func checkProjectedToken(t *testing.T, k *kctl) {
	t.Helper()
	out := k.ok("", "get", "pods", "-l", "app=web", "-o", `jsonpath={range .items[*]}{.spec.volumes[0].name} {.spec.volumes[0].projected.sources[0].serviceAccountToken.path}{"\n"}{end}`)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "kube-api-access-") || !strings.HasSuffix(line, " token") {
			t.Errorf("a web pod's first volume: %q, want kube-api-access-* projecting a token", line)
		}
	}
}

// checkServiceAnswers: the Service's cluster IP, from the lab node through
// the agent's proxy, reaches both pods.
func checkServiceAnswers(t *testing.T, node *lab.Node, k *kctl) {
	t.Helper()
	vip := k.ok("", "get", "service", "web", "-o", "jsonpath={.spec.clusterIP}")
	want := strings.Fields(k.ok("", "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"))
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: node.DialContext, DisableKeepAlives: true}}
	seen := map[string]bool{}
	framework.Eventually(t, 60*time.Second, 100*time.Millisecond, "both web pods answer on "+vip, func() error {
		resp, err := c.Get("http://" + vip + "/hostname")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		seen[strings.TrimSpace(string(body))] = true
		for _, p := range want {
			if !seen[p] {
				return fmt.Errorf("answered by %v, want %v", seen, want)
			}
		}
		return nil
	})
}

// newCompatControlPlane starts etcd, kube-apiserver, kube-controller-manager
// and kube-scheduler in a new lab node, kube-apiserver on an address of the
// lab node that pods reach (the kubernetes Service's endpoint), never on
// the host; args adds to their flags. milestone logs the time since start.
func newCompatControlPlane(t *testing.T, args func(controlPlanePKI) controlPlaneArgs) (*lab.Node, controlPlanePKI, *kctl, func(string)) {
	t.Helper()
	bins := controlPlaneBinsFromEnv(t)
	requireAgentDeps(t)
	start := time.Now()
	milestone := func(what string) { t.Helper(); t.Logf("%6.1fs %s", time.Since(start).Seconds(), what) }
	node := framework.NewLab(t)
	if out, err := runIn(node, "ip", "addr", "add", apiAddr+"/32", "dev", "lo"); err != nil {
		t.Fatalf("ip addr add: %v %s", err, out)
	}
	pki := newControlPlanePKI(t, apiAddr, nodeName)
	k := &kctl{t: t, srv: framework.InLab(t, node), bin: kubectls[0], kubeconfig: pki.kubeconfig("admin")}
	startControlPlane(t, node, bins, pki, k, args(pki))
	return node, pki, k, milestone
}
