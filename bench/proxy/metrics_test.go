package main

import (
	"strings"
	"testing"
	"time"
)

// kubeProxyPage is an excerpt of a kube-proxy v1.37 /metrics page in
// nftables mode, dual-stack: both families have synced.
const kubeProxyPage = `# HELP kubeproxy_sync_full_proxy_rules_duration_seconds [ALPHA] SyncProxyRules latency in seconds for full resyncs
# TYPE kubeproxy_sync_full_proxy_rules_duration_seconds histogram
kubeproxy_sync_full_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="0.001"} 0
kubeproxy_sync_full_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="+Inf"} 1
kubeproxy_sync_full_proxy_rules_duration_seconds_sum{ip_family="IPv4"} 0.912
kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family="IPv4"} 1
kubeproxy_sync_full_proxy_rules_duration_seconds_bucket{ip_family="IPv6",le="0.001"} 0
kubeproxy_sync_full_proxy_rules_duration_seconds_bucket{ip_family="IPv6",le="+Inf"} 1
kubeproxy_sync_full_proxy_rules_duration_seconds_sum{ip_family="IPv6"} 0.011
kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family="IPv6"} 1
# HELP kubeproxy_sync_partial_proxy_rules_duration_seconds [ALPHA] SyncProxyRules latency in seconds for partial resyncs
# TYPE kubeproxy_sync_partial_proxy_rules_duration_seconds histogram
kubeproxy_sync_partial_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="+Inf"} 4
kubeproxy_sync_partial_proxy_rules_duration_seconds_sum{ip_family="IPv4"} 0.2
kubeproxy_sync_partial_proxy_rules_duration_seconds_count{ip_family="IPv4"} 4
# HELP kubeproxy_sync_proxy_rules_duration_seconds [ALPHA] SyncProxyRules latency in seconds
# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="+Inf"} 5
kubeproxy_sync_proxy_rules_duration_seconds_sum{ip_family="IPv4"} 1.112
kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"} 5
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv6",le="+Inf"} 7
kubeproxy_sync_proxy_rules_duration_seconds_sum{ip_family="IPv6"} 0.05
kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv6"} 7
# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds [ALPHA] The last time proxy rules were successfully synced
# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge
kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} 1.7e+09
`

func TestParseSyncMetricsTakesIPv4(t *testing.T) {
	m, err := parseSyncMetrics(strings.NewReader(kubeProxyPage))
	if err != nil {
		t.Fatal(err)
	}
	want := syncMetrics{all: histo{1.112, 5}, full: histo{0.912, 1}, partial: histo{0.2, 4}}
	if m != want {
		t.Errorf("got %+v, want %+v", m, want)
	}
}

// Before its first sync kube-proxy exports none of the histograms (or, in
// the other family, no IPv4 series); that reads as no syncs yet.
func TestParseSyncMetricsBeforeTheFirstSync(t *testing.T) {
	for _, page := range []string{
		"# TYPE go_goroutines gauge\ngo_goroutines 12\n",
		"# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram\nkubeproxy_sync_proxy_rules_duration_seconds_sum{ip_family=\"IPv6\"} 1\nkubeproxy_sync_proxy_rules_duration_seconds_count{ip_family=\"IPv6\"} 1\n",
	} {
		m, err := parseSyncMetrics(strings.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		if m != (syncMetrics{}) {
			t.Errorf("got %+v, want nothing counted", m)
		}
	}
}

func TestParseSyncMetricsRefusals(t *testing.T) {
	for name, page := range map[string]string{
		"not a histogram": "# TYPE kubeproxy_sync_proxy_rules_duration_seconds gauge\nkubeproxy_sync_proxy_rules_duration_seconds{ip_family=\"IPv4\"} 1\n",
		"malformed":       "kubeproxy_sync_proxy_rules_duration_seconds_sum{ip_family=\"IPv4\" 1\n",
	} {
		if _, err := parseSyncMetrics(strings.NewReader(page)); err == nil {
			t.Errorf("%s: parsed, want an error", name)
		}
	}
}

func TestHistoSince(t *testing.T) {
	before, after := histo{sum: 1.0, count: 3}, histo{sum: 1.3, count: 5}
	mean, n := after.since(before)
	if n != 2 || mean.Round(time.Millisecond) != 150*time.Millisecond {
		t.Errorf("since: %s over %d, want 150ms over 2", mean, n)
	}
	if got := after.sumSince(before).Round(time.Millisecond); got != 300*time.Millisecond {
		t.Errorf("sumSince: %s, want 300ms", got)
	}
	if mean, n := before.since(before); mean != 0 || n != 0 {
		t.Errorf("no new observation: %s over %d, want none", mean, n)
	}
	if got := before.sumSince(after); got != 0 {
		t.Errorf("sumSince an older histogram: %s, want 0", got)
	}
}
