//go:build e2e && compat

package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/lab"
)

// operatorEnv returns the value of the environment variable that `make
// compat` sets (a binary it built, a module directory it downloaded), and
// fails the test without it.
func operatorEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set; run `make compat`", name)
	}
	return v
}

// waitEstablished waits for the CustomResourceDefinitions' Established
// condition. Not `kubectl wait`: it fails at once on a definition whose
// status.conditions are not set yet (kubernetes/kubernetes#66439, with
// kube-apiserver too).
func waitEstablished(t *testing.T, k *kctl, names ...string) {
	t.Helper()
	for _, name := range names {
		framework.Eventually(t, 60*time.Second, 200*time.Millisecond, name+" established", func() error {
			out, _, err := k.run("", "get", "crd", name, "-o", `jsonpath={.status.conditions[?(@.type=="Established")].status}`)
			if err != nil || out != "True" {
				return fmt.Errorf("Established: %q %v", out, err)
			}
			return nil
		})
	}
}

// serviceAccountKubeconfig makes ServiceAccount ns/name a token with
// kubectl create token (the TokenRequest API) and writes a kubeconfig that
// uses it against the admin kubeconfig's server and CA: the operator runs
// with what its RBAC grants, as in a cluster.
func serviceAccountKubeconfig(t *testing.T, k *kctl, ns, name string) string {
	t.Helper()
	token := strings.TrimSpace(k.ok("", "create", "token", name, "-n", ns, "--duration", "1h"))
	cfg, err := clientcmd.LoadFromFile(k.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AuthInfos = map[string]*clientcmdapi.AuthInfo{name: {Token: token}}
	for _, c := range cfg.Contexts {
		c.AuthInfo = name
	}
	path := filepath.Join(t.TempDir(), name+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// labGet fetches url from inside the lab node (a loopback listener of a
// process there) and returns the body.
func labGet(node *lab.Node, url string) (string, error) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: node.DialContext}}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b), nil
}

// listWatchErrors are the lines of a client-go program's log where a
// reflector could not list or watch a resource.
var listWatchErrors = regexp.MustCompile(`(?i).*(failed to watch|failed to list).*`)

// metricSample is one line of Prometheus text: name{labels} value.
type metricSample struct {
	name, value string
	labels      map[string]string
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

func parseMetrics(text string) []metricSample {
	var out []metricSample
	for _, line := range strings.Split(text, "\n") {
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		s := metricSample{name: m[1], value: m[3], labels: map[string]string{}}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out
}

// wantSample is a sample that must be in a scrape: its name, the labels it
// must carry (a value ending in "*" is a prefix) and its value ("" for any).
type wantSample struct {
	name   string
	labels map[string]string
	value  string
}

func (w wantSample) matches(s metricSample) bool {
	if s.name != w.name || (w.value != "" && s.value != w.value) {
		return false
	}
	for k, v := range w.labels {
		got, ok := s.labels[k]
		if p, prefix := strings.CutSuffix(v, "*"); !ok || (prefix && !strings.HasPrefix(got, p)) || (!prefix && got != v) {
			return false
		}
	}
	return true
}

func (w wantSample) String() string { return fmt.Sprintf("%s%v %s", w.name, w.labels, w.value) }

// missingSamples returns the wanted samples the scrape does not have.
func missingSamples(text string, want []wantSample) []wantSample {
	samples := parseMetrics(text)
	var missing []wantSample
	for _, w := range want {
		found := false
		for _, s := range samples {
			if w.matches(s) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, w)
		}
	}
	return missing
}

const ksmObjectsYAML = `apiVersion: v1
kind: Namespace
metadata:
  name: ksm
---
apiVersion: v1
kind: Node
metadata:
  name: ksm-node
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ksm
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: 127.0.0.1:5000/nodeagent/testserver:v1
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ksm
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ksm
data:
  a: b
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
  namespace: ksm
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: job
            image: 127.0.0.1:5000/nodeagent/testserver:v1
`

// ksmServed are kube-state-metrics v2.20.0's default resources that the
// bundled server serves; ksmUnserved the rest of its defaults. The server
// does not serve these on purpose: each is enforced by kube-apiserver's
// admission (quotas, limit ranges, admission webhooks and policies) or
// acted on by a controller it does not run (HPAs, ReplicationControllers),
// and storing them unenforced would tell a user they hold when they do not.
var (
	ksmServed = []string{"certificatesigningrequests", "configmaps", "cronjobs", "daemonsets", "deployments",
		"endpointslices", "ingresses", "jobs", "leases", "namespaces", "networkpolicies", "nodes",
		"persistentvolumeclaims", "persistentvolumes", "poddisruptionbudgets", "pods", "replicasets", "secrets",
		"services", "statefulsets", "storageclasses", "volumeattachments"}
	ksmUnserved = []string{"horizontalpodautoscalers", "limitranges", "mutatingadmissionpolicies",
		"mutatingadmissionpolicybindings", "mutatingwebhookconfigurations", "replicationcontrollers", "resourcequotas",
		"validatingadmissionpolicies", "validatingadmissionpolicybindings", "validatingwebhookconfigurations"}
)

// kube-state-metrics (NODEAGENT_KUBE_STATE_METRICS, built by `make compat`)
// lists and watches nearly every built-in API group. It runs against the
// bundled server as its upstream ServiceAccount and ClusterRole (the
// module's examples/standard manifests, applied unchanged), with a token
// from the TokenRequest API, serving on loopback in the lab node; objects
// made with kubectl show in its metrics, and its log has no failed list or
// watch.
func TestCompatKubeStateMetrics(t *testing.T) {
	bin := operatorEnv(t, "NODEAGENT_KUBE_STATE_METRICS")
	src := operatorEnv(t, "NODEAGENT_KUBE_STATE_METRICS_SRC")
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	for _, f := range []string{"service-account.yaml", "cluster-role.yaml", "cluster-role-binding.yaml"} {
		k.ok("", "apply", "-f", filepath.Join(src, "examples", "standard", f))
	}
	// What the server does not serve stays out of --resources: with it in,
	// kube-state-metrics' reflectors fail to list it forever.
	for _, r := range ksmUnserved {
		if out, _, err := k.run("", "api-resources", "--no-headers", "-o", "name"); err != nil || strings.Contains("\n"+out, "\n"+r+"\n") || strings.Contains("\n"+out, "\n"+r+".") {
			t.Errorf("the server serves %s now (or api-resources failed: %v): put it back in kube-state-metrics' --resources", r, err)
		}
	}
	kubeconfig := serviceAccountKubeconfig(t, k, "kube-system", "kube-state-metrics")
	ksm := framework.StartProcessOf(t, node, bin, "kube-state-metrics", "--kubeconfig", kubeconfig,
		"--resources", strings.Join(ksmServed, ","),
		"--host", "127.0.0.1", "--port", "18080", "--telemetry-host", "127.0.0.1", "--telemetry-port", "18081")
	k.ok(ksmObjectsYAML, "apply", "-f", "-")
	want := []wantSample{
		{name: "kube_namespace_status_phase", labels: map[string]string{"namespace": "ksm", "phase": "Active"}, value: "1"},
		{name: "kube_node_info", labels: map[string]string{"node": "ksm-node"}, value: "1"},
		{name: "kube_deployment_spec_replicas", labels: map[string]string{"namespace": "ksm", "deployment": "web"}, value: "2"},
		{name: "kube_replicaset_owner", labels: map[string]string{"namespace": "ksm", "replicaset": "web-*", "owner_kind": "Deployment", "owner_name": "web"}, value: "1"},
		{name: "kube_pod_info", labels: map[string]string{"namespace": "ksm", "pod": "web-*", "created_by_kind": "ReplicaSet"}, value: "1"},
		{name: "kube_service_info", labels: map[string]string{"namespace": "ksm", "service": "web"}, value: "1"},
		{name: "kube_configmap_info", labels: map[string]string{"namespace": "ksm", "configmap": "settings"}, value: "1"},
		{name: "kube_cronjob_info", labels: map[string]string{"namespace": "ksm", "cronjob": "nightly", "schedule": "0 3 * * *"}, value: "1"},
		{name: "kube_secret_info", labels: map[string]string{"namespace": "kube-system"}, value: "1"},
	}
	framework.Eventually(t, 90*time.Second, time.Second, "kube-state-metrics shows the objects", func() error {
		body, err := labGet(node, "http://127.0.0.1:18080/metrics")
		if err != nil {
			return err
		}
		if m := missingSamples(body, want); len(m) > 0 {
			return fmt.Errorf("missing from /metrics: %v", m)
		}
		return nil
	})
	k.ok("", "scale", "deployment", "web", "-n", "ksm", "--replicas=3")
	framework.Eventually(t, 60*time.Second, time.Second, "kube-state-metrics follows a scale", func() error {
		body, err := labGet(node, "http://127.0.0.1:18080/metrics")
		if err != nil {
			return err
		}
		w := []wantSample{{name: "kube_deployment_spec_replicas", labels: map[string]string{"namespace": "ksm", "deployment": "web"}, value: "3"}}
		if m := missingSamples(body, w); len(m) > 0 {
			return fmt.Errorf("missing from /metrics: %v", m)
		}
		return nil
	})
	// Its own telemetry: every list and watch it made succeeded.
	if errs := listWatchErrors.FindAllString(ksm.Log(), -1); len(errs) > 0 {
		t.Errorf("kube-state-metrics could not list or watch:\n%s", strings.Join(errs, "\n"))
	}
}

// sealedSecretsRBAC is what sealed-secrets' Helm chart grants its
// controller (templates/cluster-role.yaml with the chart's defaults; the
// chart's templates are Go templates, so this is their rendering for
// ServiceAccount kube-system/sealed-secrets-controller).
const sealedSecretsRBAC = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: sealed-secrets-controller
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: secrets-unsealer
rules:
- apiGroups: [bitnami.com]
  resources: [sealedsecrets]
  verbs: [get, list, watch]
- apiGroups: [bitnami.com]
  resources: [sealedsecrets/status]
  verbs: [update]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, create, update, delete, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: sealed-secrets-controller
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: secrets-unsealer
subjects:
- kind: ServiceAccount
  name: sealed-secrets-controller
  namespace: kube-system
`

// inClusterScript runs the program in $1 (its arguments after it) as if in
// a pod: in a mount namespace of its own (unshare --mount, private) a tmpfs
// over /run holds the ServiceAccount files from $0 where
// rest.InClusterConfig reads them, and KUBERNETES_SERVICE_HOST/PORT name
// the server on loopback. Nothing of it is seen outside the process.
const inClusterScript = `set -e
mount -t tmpfs -o size=1m,mode=0755 nodeagent-sa /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount
cp "$0"/token "$0"/ca.crt "$0"/namespace /run/secrets/kubernetes.io/serviceaccount/
export KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=6443
exec "$@"
`

// startInCluster starts bin with args as ServiceAccount ns/name of the
// server (see inClusterScript) and returns the process.
func startInCluster(t *testing.T, k *kctl, node *lab.Node, ns, name, bin string, args ...string) *framework.Process {
	t.Helper()
	dir := t.TempDir()
	token := strings.TrimSpace(k.ok("", "create", "token", name, "-n", ns, "--duration", "1h"))
	ca, err := os.ReadFile(filepath.Join(k.srv.DataDir, "pki", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	for f, data := range map[string]string{"token": token, "ca.crt": string(ca), "namespace": ns} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return framework.StartProcessOf(t, node, "/usr/bin/unshare", name,
		append([]string{"--mount", "--propagation", "private", "/bin/sh", "-c", inClusterScript, dir, bin}, args...)...)
}

const plainSecretYAML = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: app
stringData:
  password: %s
`

// sealedSecretsTest holds what one run of sealed-secrets' controller needs.
type sealedSecretsTest struct {
	t        *testing.T
	k        *kctl
	node     *lab.Node
	kubeseal string
	certPath string
}

// seal runs kubeseal (offline, with the controller's certificate) on a
// Secret app/db whose password is password, and returns the SealedSecret.
func (s *sealedSecretsTest) seal(password string) string {
	s.t.Helper()
	cmd := exec.Command(s.kubeseal, "--kubeconfig", s.k.kubeconfig, "--cert", s.certPath, "-o", "yaml")
	cmd.Stdin = strings.NewReader(fmt.Sprintf(plainSecretYAML, password))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := s.node.Run(cmd); err != nil {
		s.t.Fatalf("kubeseal: %v: %s", err, errb.String())
	}
	return out.String()
}

// unsealed waits for Secret app/db to hold password, owned by its
// SealedSecret, and the SealedSecret's status to say it synced generation.
func (s *sealedSecretsTest) unsealed(password string, generation int) {
	s.t.Helper()
	framework.Eventually(s.t, 60*time.Second, 500*time.Millisecond, "the controller unseals db ("+password+")", func() error {
		out, _, err := s.k.run("", "get", "secret", "db", "-n", "app", "-o",
			`jsonpath={.data.password}{" "}{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}`)
		if err != nil {
			return fmt.Errorf("secret app/db: %v", err)
		}
		want := base64.StdEncoding.EncodeToString([]byte(password)) + " SealedSecret/db/true"
		if out != want {
			return fmt.Errorf("secret app/db: %q, want %q", out, want)
		}
		status := s.k.ok("", "get", "sealedsecret", "db", "-n", "app", "-o",
			`jsonpath={.status.observedGeneration}{" "}{.status.conditions[?(@.type=="Synced")].status}`)
		if want := fmt.Sprintf("%d True", generation); status != want {
			return fmt.Errorf("sealedsecret app/db status %q, want %q", status, want)
		}
		return nil
	})
}

// sealed-secrets' controller (NODEAGENT_SEALED_SECRETS, built by `make
// compat`) runs as a pod would, with its chart's RBAC and a ServiceAccount
// token: its CRD (from the module's Helm chart, applied unchanged) is
// served, it makes its key Secret, unseals a SealedSecret sealed by
// kubeseal into a Secret it owns, writes the status subresource, follows
// an update, recreates the Secret when it is deleted, and the server's
// garbage collector removes the Secret with the SealedSecret.
func TestCompatSealedSecrets(t *testing.T) {
	bin := operatorEnv(t, "NODEAGENT_SEALED_SECRETS")
	kubeseal := operatorEnv(t, "NODEAGENT_KUBESEAL")
	src := operatorEnv(t, "NODEAGENT_SEALED_SECRETS_SRC")
	requireAPIServerDeps(t)
	framework.RequireBinaries(t, "/usr/bin/unshare")
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	k.ok("", "apply", "--server-side", "-f", filepath.Join(src, "helm", "sealed-secrets", "crds", "bitnami.com_sealedsecrets.yaml"))
	waitEstablished(t, k, "sealedsecrets.bitnami.com")
	k.ok(sealedSecretsRBAC, "apply", "-f", "-")
	k.ok("", "create", "namespace", "app")
	ctl := startInCluster(t, k, node, "kube-system", "sealed-secrets-controller", bin,
		"--listen-addr", "127.0.0.1:18090", "--listen-metrics-addr", "127.0.0.1:18091", "--key-size", "2048")
	var cert string
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "the controller serves its certificate", func() error {
		var err error
		cert, err = labGet(node, "http://127.0.0.1:18090/v1/cert.pem")
		return err
	})
	keys := k.ok("", "get", "secret", "-n", "kube-system", "-l", "sealedsecrets.bitnami.com/sealed-secrets-key=active", "-o", "name")
	if !strings.HasPrefix(keys, "secret/sealed-secrets-key") {
		t.Fatalf("the controller's key secret: %q", keys)
	}
	s := &sealedSecretsTest{t: t, k: k, node: node, kubeseal: kubeseal, certPath: filepath.Join(t.TempDir(), "cert.pem")}
	if err := os.WriteFile(s.certPath, []byte(cert), 0o600); err != nil {
		t.Fatal(err)
	}
	k.ok(s.seal("first"), "apply", "-f", "-")
	s.unsealed("first", 1)
	k.ok(s.seal("second"), "apply", "-f", "-")
	s.unsealed("second", 2)
	k.ok("", "delete", "secret", "db", "-n", "app")
	s.unsealed("second", 2)
	k.ok("", "delete", "sealedsecret", "db", "-n", "app")
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "the Secret goes with its SealedSecret", func() error {
		if out := k.ok("", "get", "secret", "-n", "app", "-o", "name"); strings.Contains(out, "secret/db") {
			return fmt.Errorf("left: %s", out)
		}
		return nil
	})
	if errs := listWatchErrors.FindAllString(ctl.Log(), -1); len(errs) > 0 {
		t.Errorf("sealed-secrets could not list or watch:\n%s", strings.Join(errs, "\n"))
	}
}

const prometheusYAML = `apiVersion: v1
kind: Namespace
metadata:
  name: mon
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: prometheus
  namespace: mon
---
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata:
  name: main
  namespace: mon
spec:
  replicas: 1
  serviceAccountName: prometheus
  serviceMonitorSelector: {}
  serviceMonitorNamespaceSelector: {}
`

const serviceMonitorYAML = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: mon
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: web
  namespace: mon
spec:
  selector:
    matchLabels: {app: web}
  endpoints:
  - port: http
`

// prometheusConfig is the Prometheus configuration prometheus-operator
// generated for Prometheus mon/main (its Secret's prometheus.yaml.gz).
func prometheusConfig(k *kctl) (string, error) {
	out, _, err := k.run("", "get", "secret", "-n", "mon", "prometheus-main", "-o", `jsonpath={.data.prometheus\.yaml\.gz}`)
	if err != nil || out == "" {
		return "", fmt.Errorf("secret mon/prometheus-main: %q %v", out, err)
	}
	gz, err := base64.StdEncoding.DecodeString(out)
	if err != nil {
		return "", err
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

// prometheus-operator (NODEAGENT_PROMETHEUS_OPERATOR, built by `make
// compat`) runs as in a pod with its upstream ServiceAccount and
// ClusterRole (example/rbac, applied unchanged); its ten CRDs
// (example/prometheus-operator-crd, unchanged) are applied server-side, as
// upstream says (they are too large for client-side apply). For a
// Prometheus it makes the StatefulSet, governing Service and configuration
// Secret, all owned by the Prometheus, and writes its status with
// server-side apply on the status subresource; a ServiceMonitor becomes a
// scrape job in the configuration; the garbage collector removes what it
// made with the Prometheus.
func TestCompatPrometheusOperator(t *testing.T) {
	bin := operatorEnv(t, "NODEAGENT_PROMETHEUS_OPERATOR")
	src := operatorEnv(t, "NODEAGENT_PROMETHEUS_OPERATOR_SRC")
	requireAPIServerDeps(t)
	framework.RequireBinaries(t, "/usr/bin/unshare")
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	k.ok("", "apply", "--server-side", "-f", filepath.Join(src, "example", "prometheus-operator-crd"))
	waitEstablished(t, k, "prometheuses.monitoring.coreos.com", "servicemonitors.monitoring.coreos.com")
	rbac := filepath.Join(src, "example", "rbac", "prometheus-operator")
	for _, f := range []string{"prometheus-operator-service-account.yaml", "prometheus-operator-cluster-role.yaml", "prometheus-operator-cluster-role-binding.yaml"} {
		k.ok("", "apply", "-f", filepath.Join(rbac, f))
	}
	po := startInCluster(t, k, node, "default", "prometheus-operator", bin,
		"--web.listen-address", "127.0.0.1:18100", "--log-level", "debug")
	k.ok(prometheusYAML, "apply", "-f", "-")
	framework.Eventually(t, 90*time.Second, 500*time.Millisecond, "the operator makes Prometheus mon/main's objects", func() error {
		out, _, err := k.run("", "get", "statefulset,service,secret", "-n", "mon", "-o",
			`jsonpath={range .items[*]}{.kind}/{.metadata.name}/{.metadata.ownerReferences[0].kind}{"\n"}{end}`)
		if err != nil {
			return err
		}
		for _, want := range []string{"StatefulSet/prometheus-main/Prometheus", "Service/prometheus-operated/Prometheus", "Secret/prometheus-main/Prometheus"} {
			if !strings.Contains(out, want+"\n") {
				return fmt.Errorf("no %s in:\n%s", want, out)
			}
		}
		return nil
	})
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "the operator writes the Prometheus's status", func() error {
		out, _, err := k.run("", "get", "prometheus", "-n", "mon", "main", "-o",
			`jsonpath={.status.conditions[?(@.type=="Reconciled")].status}{" "}{.metadata.managedFields[?(@.subresource=="status")].manager}`)
		if err != nil || out != "True PrometheusOperator" {
			return fmt.Errorf("Reconciled condition and status manager: %q %v", out, err)
		}
		return nil
	})
	k.ok(serviceMonitorYAML, "apply", "-f", "-")
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "the ServiceMonitor becomes a scrape job", func() error {
		cfg, err := prometheusConfig(k)
		if err != nil {
			return err
		}
		if !strings.Contains(cfg, "job_name: serviceMonitor/mon/web/0") {
			return fmt.Errorf("no job serviceMonitor/mon/web/0 in:\n%s", cfg)
		}
		return nil
	})
	k.ok("", "delete", "prometheus", "-n", "mon", "main")
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "what the operator made goes with the Prometheus", func() error {
		if out := k.ok("", "get", "statefulset,secret", "-n", "mon", "-o", "name"); strings.Contains(out, "prometheus-main") {
			return fmt.Errorf("left: %s", out)
		}
		return nil
	})
	if errs := listWatchErrors.FindAllString(po.Log(), -1); len(errs) > 0 {
		t.Errorf("prometheus-operator could not list or watch:\n%s", strings.Join(errs, "\n"))
	}
}
