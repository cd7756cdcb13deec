package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/proxytest"
)

var svcA = types.NamespacedName{Namespace: "default", Name: "a"}

type fakeCounter struct{ total, last map[string]int }

func (f fakeCounter) RuleCounts() (map[string]int, map[string]int) { return f.total, f.last }

func newMetrics(t *testing.T, mode string, rules proxy.RuleCounter) (*Metrics, *prometheus.Registry, *clocktesting.FakeClock) {
	t.Helper()
	clk := clocktesting.NewFakeClock(time.Unix(1_800_000_000, 0))
	reg := prometheus.NewRegistry()
	m, err := New(reg, mode, rules, clk)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg, clk
}

func names(t *testing.T, g prometheus.Gatherer) []string {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		out = append(out, mf.GetName())
	}
	return out
}

// TestModesRegisterKubeProxyNames: every mode has kube-proxy's common
// names; iptables adds the restore failures and rule counts, nftables its
// sync failures.
func TestModesRegisterKubeProxyNames(t *testing.T) {
	common := []string{"kubeproxy_sync_proxy_rules_duration_seconds", "kubeproxy_sync_full_proxy_rules_duration_seconds",
		"kubeproxy_sync_partial_proxy_rules_duration_seconds", "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
		"kubeproxy_sync_proxy_rules_endpoint_changes_total", "kubeproxy_sync_proxy_rules_service_changes_total",
		"kubeproxy_network_programming_duration_seconds"}
	for _, tc := range []struct {
		mode  string
		rules proxy.RuleCounter
		more  []string
	}{
		{"iptables", fakeCounter{total: map[string]int{"nat": 1}, last: map[string]int{"nat": 1}}, []string{"kubeproxy_sync_proxy_rules_iptables_restore_failures_total", "kubeproxy_sync_proxy_rules_iptables_total"}},
		{"nftables", nil, []string{"kubeproxy_sync_proxy_rules_nftables_sync_failures_total"}},
		{"ipvs", nil, nil},
	} {
		m, reg, _ := newMetrics(t, tc.mode, tc.rules)
		m.ServiceChanged(svcA)
		m.EndpointsChanged(svcA, time.Time{})
		m.SyncStarted()
		m.Synced(proxy.SyncResult{Full: true, Took: time.Millisecond}, &proxy.Snapshot{})
		m.Synced(proxy.SyncResult{Took: time.Millisecond}, &proxy.Snapshot{})
		m.countFailure(false)
		got := names(t, reg)
		for _, n := range append(common, tc.more...) {
			if !slices.Contains(got, n) {
				t.Errorf("%s mode: no %s in %v", tc.mode, n, got)
			}
		}
		if tc.mode != "iptables" && slices.Contains(got, "kubeproxy_sync_proxy_rules_iptables_total") {
			t.Errorf("%s mode counts iptables rules", tc.mode)
		}
	}
}

func TestSyncDurationsByKind(t *testing.T) {
	m, reg, clk := newMetrics(t, "iptables", nil)
	m.Synced(proxy.SyncResult{Full: true, Took: 900 * time.Millisecond}, &proxy.Snapshot{})
	m.Synced(proxy.SyncResult{Took: 100 * time.Millisecond}, &proxy.Snapshot{})
	m.Synced(proxy.SyncResult{Took: 120 * time.Millisecond}, &proxy.Snapshot{})
	m.Synced(proxy.SyncResult{Took: time.Second, Err: errors.New("restore failed")}, &proxy.Snapshot{})
	for name, want := range map[string]int{"kubeproxy_sync_proxy_rules_duration_seconds": 3,
		"kubeproxy_sync_full_proxy_rules_duration_seconds": 1, "kubeproxy_sync_partial_proxy_rules_duration_seconds": 2} {
		if got := sampleCount(t, reg, name); got != want {
			t.Errorf("%s: %d observations, want %d (a failed sync is a failure, not a duration)", name, got, want)
		}
	}
	if got := testutil.ToFloat64(m.m.lastSync); got != float64(clk.Now().Unix()) {
		t.Errorf("last sync timestamp %v, want %v", got, clk.Now().Unix())
	}
	if got := testutil.ToFloat64(m.m.restoreFailures); got != 1 {
		t.Errorf("restore failures %v", got)
	}
	if got := testutil.ToFloat64(m.m.partialRestoreFailures); got != 1 {
		t.Errorf("partial restore failures %v", got)
	}
}

func sampleCount(t *testing.T, g prometheus.Gatherer, name string) int {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return int(mf.GetMetric()[0].GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no %s", name)
	return 0
}

// TestChangesPendingUntilASyncTakesThem: the pending gauges count the
// Services with changes no sync has taken; the totals count every change.
func TestChangesPendingUntilASyncTakesThem(t *testing.T) {
	m, _, _ := newMetrics(t, "nftables", nil)
	svcB := types.NamespacedName{Namespace: "default", Name: "b"}
	m.ServiceChanged(svcA)
	m.ServiceChanged(svcA)
	m.ServiceChanged(svcB)
	m.EndpointsChanged(svcA, time.Time{})
	check := func(when string, svcTotal, svcPending, epTotal, epPending float64) {
		t.Helper()
		for _, c := range []struct {
			what      string
			got, want float64
		}{
			{"service changes", testutil.ToFloat64(m.m.serviceChanges), svcTotal},
			{"service changes pending", testutil.ToFloat64(m.m.servicesPending), svcPending},
			{"endpoint changes", testutil.ToFloat64(m.m.endpointChanges), epTotal},
			{"endpoint changes pending", testutil.ToFloat64(m.m.endpointsPending), epPending},
		} {
			if c.got != c.want {
				t.Errorf("%s: %s %v, want %v", when, c.what, c.got, c.want)
			}
		}
	}
	check("before a sync", 3, 2, 1, 1)
	m.SyncStarted()
	check("once a sync took them", 3, 0, 1, 0)
	m.EndpointsChanged(svcB, time.Time{})
	check("a change during the sync", 3, 0, 2, 1)
}

// TestNetworkProgrammingLatency: from each endpoint change's trigger time
// to the end of the sync that applied it; triggers older than the proxy,
// and those of a failed sync, are not observed.
func TestNetworkProgrammingLatency(t *testing.T) {
	m, reg, clk := newMetrics(t, "iptables", nil)
	start := clk.Now()
	m.EndpointsChanged(svcA, start.Add(-time.Hour)) // an old object, listed at start
	clk.Step(10 * time.Second)
	m.EndpointsChanged(svcA, clk.Now().Add(-2*time.Second))
	m.SyncStarted()
	clk.Step(time.Second)
	m.Synced(proxy.SyncResult{Took: time.Second}, &proxy.Snapshot{})
	if n := sampleCount(t, reg, "kubeproxy_network_programming_duration_seconds"); n != 1 {
		t.Fatalf("%d observations, want 1", n)
	}
	if !strings.Contains(scrape(t, reg), `kubeproxy_network_programming_duration_seconds_sum{ip_family="IPv4"} 3`) {
		t.Errorf("want one latency of 3 s:\n%s", scrape(t, reg))
	}
	m.EndpointsChanged(svcA, clk.Now())
	m.SyncStarted()
	m.Synced(proxy.SyncResult{Err: errors.New("failed")}, &proxy.Snapshot{})
	m.SyncStarted()
	m.Synced(proxy.SyncResult{}, &proxy.Snapshot{})
	if n := sampleCount(t, reg, "kubeproxy_network_programming_duration_seconds"); n != 1 {
		t.Errorf("%d observations after a failed sync, want still 1", n)
	}
}

func TestNoLocalEndpoints(t *testing.T) {
	m, reg, _ := newMetrics(t, "iptables", nil)
	b := proxytest.New("192.168.0.10")
	b.Service("default", "int-none", "10.96.0.1", 80, proxytest.InternalLocal)
	local := b.Service("default", "int-local", "10.96.0.2", 80, proxytest.InternalLocal)
	b.Endpoints(local, proxytest.Local("10.244.0.5", 80))
	remote := b.Service("default", "ext-remote", "10.96.0.3", 80, proxytest.NodePort(30080), proxytest.ExternalLocal)
	b.Endpoints(remote, proxytest.Ready("10.244.1.5", 80))
	b.Service("default", "plain", "10.96.0.4", 80)
	m.Synced(proxy.SyncResult{}, b.Snapshot())
	out := scrape(t, reg)
	for _, want := range []string{
		`kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family="IPv4",traffic_policy="internal"} 1`,
		`kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family="IPv4",traffic_policy="external"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
}

func TestRuleCountsAfterASync(t *testing.T) {
	rules := fakeCounter{total: map[string]int{"nat": 120, "filter": 7}, last: map[string]int{"nat": 12, "filter": 0}}
	m, reg, _ := newMetrics(t, "iptables", rules)
	m.Synced(proxy.SyncResult{}, &proxy.Snapshot{})
	out := scrape(t, reg)
	for _, want := range []string{
		`kubeproxy_sync_proxy_rules_iptables_total{ip_family="IPv4",table="nat"} 120`,
		`kubeproxy_sync_proxy_rules_iptables_total{ip_family="IPv4",table="filter"} 7`,
		`kubeproxy_sync_proxy_rules_iptables_last{ip_family="IPv4",table="nat"} 12`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
}

func scrape(t *testing.T, g prometheus.Gatherer) string {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(g, "iptables").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

// TestHandlerServesKubeProxyPathsOnly: /metrics, /healthz, /proxyMode, and
// nothing else (the port has no credentials).
func TestHandlerServesKubeProxyPathsOnly(t *testing.T) {
	h := Handler(prometheus.NewRegistry(), "nftables")
	for _, tc := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/proxyMode", 200, "nftables"}, {"GET", "/healthz", 200, "ok"}, {"GET", "/metrics", 200, ""},
		{"GET", "/", 404, ""}, {"GET", "/configz", 404, ""}, {"GET", "/debug/pprof/", 404, ""}, {"POST", "/metrics", 405, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != tc.code || (tc.body != "" && string(body) != tc.body) {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, rec.Code, body, tc.code, tc.body)
		}
	}
}
