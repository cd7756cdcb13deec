package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/proc"
	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

func report(out io.Writer, cfg config, r runResults) {
	host, _ := os.Hostname()
	fmt.Fprintf(out, "\nnodeagent proxy bench, %s, %s, %d cores, kernel %s\n", time.Now().Format("2006-01-02 15:04"), host, runtime.NumCPU(), proc.KernelRelease())
	fmt.Fprintf(out, "each Service: 1 TCP port, 3 endpoints; partial syncs: median of %d\n", cfg.Changes)
	fmt.Fprintln(out, ipvsNote(hasIPVS()))
	rows := byMode(r.rows, cfg.Modes)
	ours(out, rows)
	connects(out, rows)
	if r.kubeProxy == "" {
		fmt.Fprintf(out, "\nkube-proxy not measured: %s\n", r.kubeSkipped)
		return
	}
	beside(out, r.kubeProxy, rows)
}

// byMode orders rows by mode (in the order given), then size.
func byMode(rows []result, modes []string) []result {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b result) int {
		if d := slices.Index(modes, a.mode) - slices.Index(modes, b.mode); d != 0 {
			return d
		}
		return a.services - b.services
	})
	return out
}

// hasIPVS says whether the kernel has IPVS loaded (it makes
// /proc/net/ip_vs in every network namespace).
func hasIPVS() bool {
	_, err := os.Stat("/proc/net/ip_vs")
	return err == nil
}

func ipvsNote(ipvs bool) string {
	if ipvs {
		return "ipvs: not measured here (nodeagent's ipvs backend is exercised in a VM, see issue 13)"
	}
	return "ipvs: not measured: this kernel has no IPVS (no /proc/net/ip_vs)"
}

// ours is nodeagent's table.
func ours(out io.Writer, rows []result) {
	fmt.Fprintf(out, "\nnodeagent (full sync: the median of %d, each onto an empty table from a new tracker's first snapshot;\n"+
		"a change: the median of --changes partial syncs)\n%-9s %8s %12s %14s %16s %12s %8s\n", fullRuns, "mode", "services", "full sync", "+1 service", "1 endpoint chg", "cleanup", "listed")
	for _, r := range rows {
		fmt.Fprintf(out, "%-9s %8d %12s %14s %16s %12s %8d\n", r.mode, r.services, dur(r.full), dur(r.addOne), dur(r.endpoint), dur(r.cleanup), r.rules)
	}
}

func connects(out io.Writer, rows []result) {
	fmt.Fprintln(out, "\nfirst-packet connect latency (new TCP connection, SYN to SYN-ACK, from the node), through the Service whose")
	fmt.Fprintln(out, "rule comes last (iptables walks KUBE-SERVICES in order), and direct to its endpoint (in iptables mode that")
	fmt.Fprintln(out, "packet too walks every KUBE-SERVICES rule without a match):")
	for _, r := range rows {
		if r.connect.N > 0 {
			fmt.Fprintf(out, "  %-9s %5d services: through the Service p50 %s p99 %s; direct to the endpoint p50 %s p99 %s (n=%d)\n",
				r.mode, r.services, us(r.connect.P50), us(r.connect.P99), us(r.direct.P50), us(r.direct.P99), r.connect.N)
		}
	}
}

// beside prints kube-proxy's figures next to ours, with the ratio.
func beside(out io.Writer, version string, rows []result) {
	fmt.Fprintf(out, "\nkube-proxy (%s) beside nodeagent, same Services, measured in this run, in a lab node fed by a real\n", version)
	fmt.Fprintln(out, "kube-apiserver, timed by its own kubeproxy_sync_*_duration_seconds{ip_family=\"IPv4\"} histograms: full sync = its")
	fmt.Fprintln(out, "first sync with every Service present; a change = every sync it caused until 2 s pass without one (a new")
	fmt.Fprintln(out, "Service is two objects, Service and EndpointSlice); cleanup = wall time of `kube-proxy --cleanup`; RSS = VmRSS")
	fmt.Fprintln(out, "after the changes. \"in-process\" is the table above (nodeagent's proxy inside the bench, its RSS not")
	fmt.Fprintln(out, "separable); \"daemon\" is `nodeagent proxy` run and measured exactly as kube-proxy is, after it, fed by the")
	fmt.Fprintln(out, "same kube-apiserver (cleanup: `nodeagent proxy --cleanup`); the ratio is kube-proxy's over the daemon's")
	fmt.Fprintln(out, "(over the in-process figure when the daemon was not run)")
	fmt.Fprintf(out, "%-9s %8s  %-15s %12s %12s %12s %10s\n", "mode", "services", "", "in-process", "daemon", "kube-proxy", "kp/ours")
	for _, r := range rows {
		if r.kp == nil {
			continue
		}
		for _, f := range figures(r) {
			fmt.Fprintf(out, "%-9s %8d  %-15s %12s %12s %12s %10s\n", r.mode, r.services, f.name, f.ours, f.daemon, f.kube, f.ratio)
		}
	}
}

// figure is one line of the comparison.
type figure struct{ name, ours, daemon, kube, ratio string }

func figures(r result) []figure {
	d := r.daemon
	row := func(name string, o, k time.Duration, dm func(*kpResult) time.Duration) figure {
		f := figure{name: name, ours: dur(o), daemon: "-", kube: dur(k), ratio: ratio(o, k)}
		if d != nil {
			f.daemon, f.ratio = dur(dm(d)), ratio(dm(d), k)
		}
		return f
	}
	rss := figure{name: "RSS", ours: "-", daemon: "-", kube: stats.MiB(r.kp.rss)}
	if d != nil {
		rss.daemon = stats.MiB(d.rss)
		if d.rss > 0 {
			rss.ratio = fmt.Sprintf("%.1fx", float64(r.kp.rss)/float64(d.rss))
		}
	}
	return []figure{
		row("full sync", r.full, r.kp.full, func(p *kpResult) time.Duration { return p.full }),
		row("+1 service", r.addOne, r.kp.addOne, func(p *kpResult) time.Duration { return p.addOne }),
		row("1 endpoint chg", r.endpoint, r.kp.endpoint, func(p *kpResult) time.Duration { return p.endpoint }),
		row("cleanup", r.cleanup, r.kp.cleanup, func(p *kpResult) time.Duration { return p.cleanup }),
		rss,
	}
}

// ratio is kube-proxy's time over ours: "12.3x".
func ratio(ours, kube time.Duration) string {
	if ours <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fx", float64(kube)/float64(ours))
}

// dur is "12.3s" from 10 s, "123ms" from 10 ms, "1.2ms" below.
func dur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d >= 10*time.Millisecond:
		return stats.WholeMs(d)
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func us(d time.Duration) string { return fmt.Sprintf("%dµs", d.Microseconds()) }
