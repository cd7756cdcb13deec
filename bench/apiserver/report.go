package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/kubeanchor"
	"github.com/nodeagent/nodeagent/bench/internal/proc"
	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

// report prints the figures: ours against the etcd baseline, one line each
// with the API/etcd ratio beside the comparable ones, then ours and the
// anchor side by side.
func report(w io.Writer, cfg config, r *results, started time.Time) {
	fmt.Fprintf(w, "nodeagent API server bench  %s  %s %s/%s  nproc %d  %s  (took %s)\n",
		started.Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), proc.CPUModel(), time.Since(started).Round(time.Second))
	fmt.Fprintf(w, "server: nodeagent server --disable-agent; its controllers run; every pod is bound to one of %d nodes (objects without an agent), so no scheduler acts\n", cfg.Nodes)
	if r.kube != nil {
		fmt.Fprintf(w, "anchor: %s (its defaults: watch cache, protobuf in etcd; RBAC, the bench a client certificate in %s)\n", r.kube.versions, kubeanchor.AdminGroup)
	} else {
		fmt.Fprintf(w, "anchor: kube-apiserver not measured: %s\n", r.kubeSkipped)
	}
	fmt.Fprintf(w, "client-go %s (protobuf unless said), HTTPS on 127.0.0.1; etcd baseline: embedded etcd called in-process, pod value %d bytes\n\n",
		moduleVersion("k8s.io/client-go"), r.etcd.valueBytes)
	reportOurs(w, cfg, r)
	if r.kube != nil {
		fmt.Fprintln(w)
		reportSideBySide(w, cfg, &r.ours, r.kube)
	}
}

// reportOurs is our server against plain etcd.
func reportOurs(w io.Writer, cfg config, r *results) {
	o, e := &r.ours, r.etcd
	fmt.Fprintf(w, "nodeagent against plain etcd (ratios are API/etcd: latency >1x means the API server is slower, throughput <1x means it is slower):\n")
	createLine(w, "create 1 client", o.create1, e.put1)
	createLine(w, fmt.Sprintf("create %d clients", cfg.Clients), o.create16, e.put16)
	fmt.Fprintf(w, "%-20s %d clients %s  %.0f pods/s   (etcd put: %s %.0f/s; ratio time %s)\n",
		fmt.Sprintf("fill %d pods", cfg.ListPods), cfg.Clients, stats.Secs(o.bulk.Wall), o.bulk.Rate(),
		stats.Secs(e.bulk.Wall), e.bulk.Rate(), stats.Ratio(o.bulk.Wall.Seconds(), e.bulk.Wall.Seconds()))
	listLine(w, fmt.Sprintf("list %d json", cfg.ListPods), o.listJSON, e.get)
	listLine(w, fmt.Sprintf("list %d protobuf", cfg.ListPods), o.listProto, e.get)
	fmt.Fprintf(w, "%-20s p50 %s  p99 %s  max %s   (%d watchers x %d events = %d deliveries in %s, %.0f/s)\n",
		"watch delivery", stats.Ms(o.watch.P50), stats.Ms(o.watch.P99), stats.Ms(o.watch.Max), cfg.Watchers, cfg.WatchEvents,
		o.watch.N, stats.Secs(o.watch.Wall), o.watch.Rate())
	fmt.Fprintf(w, "%-20s %s   (median of %d readings in %s: %s)\n", "rss idle", stats.MiB(o.rssIdle.median), o.rssIdle.n, cfg.RSSWindow, o.rssIdle.spread())
	fmt.Fprintf(w, "%-20s %s   (likewise: %s; right after a list of them all: %s)\n", fmt.Sprintf("rss %d pods", cfg.Pods),
		stats.MiB(o.rssStored.median), o.rssStored.spread(), stats.MiB(o.rssListed))
}

func createLine(w io.Writer, label string, api, etcd stats.Summary) {
	fmt.Fprintf(w, "%-20s p50 %s  p99 %s  %.0f pods/s   (etcd put: p50 %s p99 %s %.0f/s; ratio p50 %s p99 %s throughput %s)\n",
		label, stats.Ms(api.P50), stats.Ms(api.P99), api.Rate(), stats.Ms(etcd.P50), stats.Ms(etcd.P99), etcd.Rate(),
		stats.Ratio(float64(api.P50), float64(etcd.P50)), stats.Ratio(float64(api.P99), float64(etcd.P99)),
		stats.Ratio(api.Rate(), etcd.Rate()))
}

func listLine(w io.Writer, label string, api, etcd stats.Summary) {
	fmt.Fprintf(w, "%-20s p50 %s  p99 %s  (n=%d)   (etcd get prefix: p50 %s p99 %s; ratio p50 %s p99 %s)\n",
		label, stats.Ms(api.P50), stats.Ms(api.P99), api.N, stats.Ms(etcd.P50), stats.Ms(etcd.P99),
		stats.Ratio(float64(api.P50), float64(etcd.P50)), stats.Ratio(float64(api.P99), float64(etcd.P99)))
}

// row is one figure of both targets.
type row struct {
	label        string
	ours, kube   float64
	format       func(float64) string
	higherBetter bool
}

// winner names the better target of the row, or says "tie".
func (r row) winner(ours, kube string) string {
	switch {
	case r.ours == r.kube:
		return "tie"
	case (r.ours > r.kube) == r.higherBetter:
		return ours
	default:
		return kube
	}
}

func ms(v float64) string     { return stats.Ms(time.Duration(v)) }
func perSec(v float64) string { return fmt.Sprintf("%.0f/s", v) }
func mib(v float64) string    { return stats.MiB(uint64(v)) }
func latency(label string, o, k time.Duration) row {
	return row{label: label, ours: float64(o), kube: float64(k), format: ms}
}

// sideBySideRows are the figures compared, in the order printed.
func sideBySideRows(cfg config, o, k *targetResults) []row {
	rows := []row{
		latency("create 1 client p50", o.create1.P50, k.create1.P50),
		latency("create 1 client p99", o.create1.P99, k.create1.P99),
		{label: fmt.Sprintf("create %d clients", cfg.Clients), ours: o.create16.Rate(), kube: k.create16.Rate(), format: perSec, higherBetter: true},
		{label: fmt.Sprintf("fill %d pods", cfg.ListPods), ours: o.bulk.Rate(), kube: k.bulk.Rate(), format: perSec, higherBetter: true},
	}
	lists := []struct {
		label string
		o, k  stats.Summary
	}{
		{fmt.Sprintf("list %d json", cfg.ListPods), o.listJSON, k.listJSON},
		{fmt.Sprintf("list %d protobuf", cfg.ListPods), o.listProto, k.listProto},
		{fmt.Sprintf("list node's %d (fieldSel)", nodeQuery(cfg).want), o.listNode, k.listNode},
		{fmt.Sprintf("list 1 %% = %d (labelSel)", shardQuery(cfg).want), o.listLabel, k.listLabel},
		{fmt.Sprintf("watch %d watchers", cfg.Watchers), o.watch, k.watch},
	}
	for _, l := range lists {
		rows = append(rows, latency(l.label+" p50", l.o.P50, l.k.P50), latency(l.label+" p99", l.o.P99, l.k.P99))
	}
	return append(rows,
		row{label: "rss idle (median)", ours: float64(o.rssIdle.median), kube: float64(k.rssIdle.median), format: mib},
		row{label: fmt.Sprintf("rss %d pods (median)", cfg.Pods), ours: float64(o.rssStored.median), kube: float64(k.rssStored.median), format: mib},
		row{label: fmt.Sprintf("rss %d pods, listed", cfg.Pods), ours: float64(o.rssListed), kube: float64(k.rssListed), format: mib},
	)
}

// reportSideBySide prints the table, then the RSS ratio the issue sets a
// goal for.
func reportSideBySide(w io.Writer, cfg config, o, k *targetResults) {
	fmt.Fprintf(w, "side by side (the same client code, in the same run, one target at a time; lower wins but for pods/s):\n")
	fmt.Fprintf(w, "%-34s %14s %20s   %s\n", "", o.name, k.name, "winner")
	for _, r := range sideBySideRows(cfg, o, k) {
		fmt.Fprintf(w, "%-34s %14s %20s   %s\n", r.label, r.format(r.ours), r.format(r.kube), r.winner(o.name, k.name))
	}
	fmt.Fprintf(w, "pod as stored, re-encoded as JSON: %d bytes (%s), %d bytes (%s)\n", len(o.podJSON), o.name, len(k.podJSON), k.name)
	fmt.Fprintf(w, "server RSS / (kube-apiserver + etcd) at %d pods: %s   (medians over %s at rest: %s / %s = %s; issue 15's goal <= 25 %%)\n",
		cfg.Pods, percent(o.rssStored.median, k.rssStored.median), cfg.RSSWindow, stats.MiB(o.rssStored.median),
		stats.MiB(k.rssStored.median), k.rssStored.split())
	fmt.Fprintf(w, "rss %d pods, ranges: %s %s; %s %s\n", cfg.Pods, o.name, o.rssStored.spread(), k.name, k.rssStored.spread())
}

// percent formats a/b as a whole percentage, or "n/a" when b is zero.
func percent(a, b uint64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f %%", 100*float64(a)/float64(b))
}

// moduleVersion is the version of a dependency built into this binary.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "(unknown)"
}
