package metrics

import "github.com/prometheus/client_golang/prometheus"

const subsystem = "kubeproxy"

// ipv4 is the ip_family label kube-proxy puts on its per-family metrics.
var ipv4 = prometheus.Labels{"ip_family": "IPv4"}

// syncBuckets are kube-proxy's buckets for sync durations: 1 ms doubling
// to about 16 s.
var syncBuckets = prometheus.ExponentialBuckets(0.001, 2, 15)

// families are the metric families, with kube-proxy's names, help texts
// and buckets.
type families struct {
	syncDuration, fullSyncDuration, partialSyncDuration prometheus.Histogram
	networkProgramming                                  prometheus.Histogram
	lastSync, lastQueued                                prometheus.Gauge
	endpointChanges, serviceChanges                     prometheus.Counter
	endpointsPending, servicesPending                   prometheus.Gauge
	noLocal                                             *prometheus.GaugeVec
	rulesTotal, rulesLast                               *prometheus.GaugeVec
	restoreFailures, partialRestoreFailures             prometheus.Counter
	nftablesSyncFailures                                prometheus.Counter
}

func newFamilies() families {
	return families{
		syncDuration:        histogram("sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds", syncBuckets),
		fullSyncDuration:    histogram("sync_full_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds for full resyncs", syncBuckets),
		partialSyncDuration: histogram("sync_partial_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds for partial resyncs", syncBuckets),
		networkProgramming:  histogram("network_programming_duration_seconds", "In Cluster Network Programming Latency in seconds", programmingBuckets()),
		lastSync:            gauge("sync_proxy_rules_last_timestamp_seconds", "The last time proxy rules were successfully synced", ipv4),
		lastQueued:          gauge("sync_proxy_rules_last_queued_timestamp_seconds", "The last time a sync of proxy rules was queued", ipv4),
		endpointChanges:     counter("sync_proxy_rules_endpoint_changes_total", "Cumulative proxy rules Endpoint changes", nil),
		serviceChanges:      counter("sync_proxy_rules_service_changes_total", "Cumulative proxy rules Service changes", nil),
		endpointsPending:    gauge("sync_proxy_rules_endpoint_changes_pending", "Pending proxy rules Endpoint changes", nil),
		servicesPending:     gauge("sync_proxy_rules_service_changes_pending", "Pending proxy rules Service changes", nil),
		noLocal: prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: subsystem, Name: "sync_proxy_rules_no_local_endpoints_total",
			Help: "Number of services with a Local traffic policy and no endpoints", ConstLabels: ipv4}, []string{"traffic_policy"}),
		rulesTotal: prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: subsystem, Name: "sync_proxy_rules_iptables_total",
			Help: "Total number of iptables rules owned by kube-proxy", ConstLabels: ipv4}, []string{"table"}),
		rulesLast: prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: subsystem, Name: "sync_proxy_rules_iptables_last",
			Help: "Number of iptables rules written by kube-proxy in last sync", ConstLabels: ipv4}, []string{"table"}),
		restoreFailures:        counter("sync_proxy_rules_iptables_restore_failures_total", "Cumulative proxy iptables restore failures", ipv4),
		partialRestoreFailures: counter("sync_proxy_rules_iptables_partial_restore_failures_total", "Cumulative proxy iptables partial restore failures", ipv4),
		nftablesSyncFailures:   counter("sync_proxy_rules_nftables_sync_failures_total", "Cumulative proxy nftables sync failures", ipv4),
	}
}

// forMode lists the collectors a proxy in mode registers: the common ones,
// then its mode's own, as kube-proxy's RegisterMetrics does. Full and
// partial sync durations are kept in every mode: each of ours does both.
func (f families) forMode(mode string, counted bool) []prometheus.Collector {
	out := []prometheus.Collector{f.syncDuration, f.fullSyncDuration, f.partialSyncDuration, f.networkProgramming,
		f.lastSync, f.lastQueued, f.endpointChanges, f.serviceChanges, f.endpointsPending, f.servicesPending, f.noLocal}
	switch mode {
	case modeIPTables:
		out = append(out, f.restoreFailures, f.partialRestoreFailures)
	case modeNFTables:
		out = append(out, f.nftablesSyncFailures)
	}
	if counted {
		out = append(out, f.rulesTotal, f.rulesLast)
	}
	return out
}

func histogram(name, help string, buckets []float64) prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{Subsystem: subsystem, Name: name, Help: help,
		Buckets: buckets, ConstLabels: ipv4})
}

func gauge(name, help string, labels prometheus.Labels) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Subsystem: subsystem, Name: name, Help: help, ConstLabels: labels})
}

func counter(name, help string, labels prometheus.Labels) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Subsystem: subsystem, Name: name, Help: help, ConstLabels: labels})
}

// programmingBuckets are kube-proxy's for network programming latency:
// 0 s, 0.25 s, 0.5 s, each second to 59 s, every 5 s to 115 s, every 30 s
// to 5 min.
func programmingBuckets() []float64 {
	out := []float64{0}
	out = append(out, prometheus.LinearBuckets(0.25, 0.25, 2)...)
	out = append(out, prometheus.LinearBuckets(1, 1, 59)...)
	out = append(out, prometheus.LinearBuckets(60, 5, 12)...)
	return append(out, prometheus.LinearBuckets(120, 30, 7)...)
}
