//go:build linux && e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// hogPod holds 32 MiB in a shell variable and then counts in short bursts
// (a few percent of a core: the machine is shared), so that its memory and
// CPU show.
const hogPod = `apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: hog
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, 'x=$(head -c 33554432 /dev/zero | tr "\\0" a); while :; do i=0; while [ $i -lt 5000 ]; do i=$((i+1)); done; sleep 0.5; done']
`

// TestObservability: in a lab node running `nodeagent server`, the agent
// serves kubelet's /stats/summary (a running pod's memory and CPU from its
// cgroups, its network from its netns), /metrics and /metrics/resource to
// an admin over the verifying HTTPS API; the embedded proxy serves
// kube-proxy's /healthz on 10256 and /metrics on 127.0.0.1:10249 alone.
// Everything is asked from inside the lab node.
func TestObservability(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(hogPod, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/hog", "{.status.phase}", "Running")
	nodeIP := l.jsonpath("node/"+nodeName, "{.status.addresses[?(@.type=='InternalIP')].address}")
	base := "https://" + nodeIP + ":10250"
	admin := l.agentClient(t, "admin")

	var hog statsapi.PodStats
	framework.Eventually(t, 60*time.Second, time.Second, "hog's stats with a CPU rate and its 32 MiB", func() error {
		s, err := summary(admin, base)
		if err != nil {
			return err
		}
		if hog, err = podStats(s, "hog"); err != nil {
			return err
		}
		return hogLooksBusy(hog)
	})
	t.Logf("hog: working set %d bytes, %d nanocores, rx %d bytes on %s", *hog.Memory.WorkingSetBytes,
		*hog.CPU.UsageNanoCores, *hog.Network.RxBytes, hog.Network.Name)
	if len(hog.Containers) != 1 || hog.Containers[0].Name != "hog" || hog.Containers[0].Memory == nil ||
		*hog.Containers[0].Memory.WorkingSetBytes == 0 {
		t.Errorf("hog's containers: %+v", hog.Containers)
	}

	l.checkAgentMetrics(t, admin, base)
	l.checkProxyEndpoints(t)
}

func summary(c *http.Client, base string) (*statsapi.Summary, error) {
	code, body, err := getAll(c, base+"/stats/summary")
	if err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("/stats/summary: %d %.200s %v", code, body, err)
	}
	var s statsapi.Summary
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return nil, err
	}
	if s.Node.NodeName != nodeName || s.Node.Memory == nil || s.Node.CPU == nil || s.Node.Fs == nil {
		return nil, fmt.Errorf("node stats %+v", s.Node)
	}
	return &s, nil
}

func podStats(s *statsapi.Summary, name string) (statsapi.PodStats, error) {
	for _, p := range s.Pods {
		if p.PodRef.Name == name && p.PodRef.Namespace == "default" {
			return p, nil
		}
	}
	return statsapi.PodStats{}, fmt.Errorf("no pod %s in the summary", name)
}

// hogLooksBusy: over 32 MiB of working set in the pod and in its
// container (the pod's counts the head and tr that fill the variable, so
// under emulation it passes 32 MiB before the shell holds it all), some CPU
// rate, an eth0.
func hogLooksBusy(p statsapi.PodStats) error {
	switch {
	case p.Memory == nil || p.Memory.WorkingSetBytes == nil || *p.Memory.WorkingSetBytes < 32<<20:
		return fmt.Errorf("memory %+v", p.Memory)
	case len(p.Containers) != 1 || p.Containers[0].Memory == nil || p.Containers[0].Memory.WorkingSetBytes == nil ||
		*p.Containers[0].Memory.WorkingSetBytes < 32<<20:
		return fmt.Errorf("containers %+v", p.Containers)
	case p.CPU == nil || p.CPU.UsageNanoCores == nil || *p.CPU.UsageNanoCores < 1e6:
		return fmt.Errorf("cpu %+v", p.CPU)
	case p.Network == nil || p.Network.Name != "eth0" || p.Network.RxBytes == nil:
		return fmt.Errorf("network %+v", p.Network)
	}
	return nil
}

// checkAgentMetrics: kubelet's names on /metrics (with values the lab must
// have produced) and on /metrics/resource.
func (l *agentLab) checkAgentMetrics(t *testing.T, admin *http.Client, base string) {
	t.Helper()
	_, out, err := getAll(admin, base+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`kubelet_node_name{node="` + nodeName + `"} 1`, `kubelet_running_containers{container_state="running"} `,
		"kubelet_pleg_relist_duration_seconds_count ", `kubelet_pod_worker_duration_seconds_count{operation_type="sync"} `,
		"go_goroutines ", "process_resident_memory_bytes "} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}
	for name, least := range map[string]float64{"kubelet_running_pods": 1, "kubelet_started_pods_total": 1,
		"kubelet_pod_start_duration_seconds_count": 1, `kubelet_started_containers_total{container_type="container"}`: 1} {
		if v := metricValue(out, name); v < least {
			t.Errorf("%s = %v, want at least %v", name, v, least)
		}
	}
	_, res, err := getAll(admin, base+"/metrics/resource")
	if err != nil {
		t.Fatal(err)
	}
	if v := metricValue(res, `container_memory_working_set_bytes{container="hog",namespace="default",pod="hog"}`); v < 32<<20 {
		t.Errorf("/metrics/resource: hog's working set %v\n%.2000s", v, res)
	}
}

// checkProxyEndpoints: kube-proxy's health port answers on every address
// of the node, its metrics port on loopback alone (the refusal: nothing
// listens on the CNI bridge's address, 10.244.0.1, the lab node's one
// address beyond loopback), both from inside the lab node.
func (l *agentLab) checkProxyEndpoints(t *testing.T) {
	t.Helper()
	const gateway = "10.244.0.1"
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: l.node.DialContext}}
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "proxy healthz 200", func() error {
		code, body, err := getAll(c, "http://"+gateway+":10256/healthz")
		if err != nil || code != http.StatusOK || !strings.Contains(body, `"lastUpdated"`) {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
	if code, body, err := getAll(c, "http://127.0.0.1:10256/livez"); err != nil || code != http.StatusOK {
		t.Errorf("/livez: %d %q %v", code, body, err)
	}
	if code, _, err := getAll(c, "http://127.0.0.1:10256/metrics"); err != nil || code != http.StatusNotFound {
		t.Errorf("health port /metrics: %d %v, want 404", code, err)
	}
	_, out, err := getAll(c, "http://127.0.0.1:10249/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{`kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"}`,
		`kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family="IPv4"}`,
		`kubeproxy_sync_proxy_rules_iptables_total{ip_family="IPv4",table="nat"}`, "kubeproxy_sync_proxy_rules_service_changes_total",
		`kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"}`, `kubeproxy_proxy_healthz_total{code="200"}`} {
		if v := metricValue(out, name); v < 1 {
			t.Errorf("proxy %s = %v, want at least 1", name, v)
		}
	}
	if _, mode, err := getAll(c, "http://127.0.0.1:10249/proxyMode"); err != nil || mode != "iptables" {
		t.Errorf("/proxyMode %q %v", mode, err)
	}
	if _, _, err := getAll(c, "http://"+gateway+":10249/metrics"); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("the metrics port on %s: %v, want connection refused (it listens on 127.0.0.1)", gateway, err)
	}
}

func getAll(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

// metricValue is the value of the series name (with its labels, as
// exposed) in a text exposition; -1 when absent.
func metricValue(exposition, name string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)`)
	m := re.FindStringSubmatch(exposition)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}
