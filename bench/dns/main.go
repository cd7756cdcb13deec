// Command dns benchmarks the cluster DNS: in a throwaway lab network
// namespace it runs `nodeagent server --disable-agent` (its DNS on
// 127.0.0.1:53 inside the lab), creates Services, and sends A queries for
// them from concurrent clients for a fixed time; with --coredns it runs a
// CoreDNS binary (kubeadm's Corefile: kubernetes plugin and cache 30)
// against the same API server in the same lab and measures it the same
// way, side by side. It prints queries per second, p50/p99 latency and
// each server's RSS, and removes everything it made. Run it through
// `make bench`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/cli"
	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

// config is what to run.
type config struct {
	Bin      string        // the nodeagent binary
	CoreDNS  string        // a coredns binary to measure beside ours ("": none)
	Services int           // Services in the cluster
	Clients  int           // concurrent clients, each with its own socket
	Duration time.Duration // how long each server is loaded
	Timeout  time.Duration // bound on the whole run
}

func defaultConfig() config {
	return config{Bin: "bin/nodeagent", Services: 1000, Clients: 8, Duration: 10 * time.Second, Timeout: 10 * time.Minute}
}

// results are one server's figures.
type results struct {
	name   string
	load   loadResult
	rss    uint64
	failed error // the server could not be measured
}

func main() { cli.Main("dns bench", mainErr) }

func mainErr(ctx context.Context, args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	return cli.Timed(ctx, cfg.Timeout, func(ctx context.Context) ([]results, error) { return run(ctx, cfg, os.Stderr) },
		func(r []results, started time.Time) { report(os.Stdout, cfg, r, started) })
}

func parseFlags(args []string) (config, error) {
	cfg := defaultConfig()
	fs, quick := cli.NewFlagSet("dns-bench", &cfg.Bin, "nodeagent binary to run as the server", &cfg.Timeout)
	fs.StringVar(&cfg.CoreDNS, "coredns", cfg.CoreDNS, "coredns binary to measure beside nodeagent's DNS (empty: ours only)")
	fs.IntVar(&cfg.Services, "services", cfg.Services, "Services in the cluster")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent clients")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "load time per server")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *quick {
		q := cli.NewQuick(fs)
		cli.Pick(q, "services", &cfg.Services, 100)
		cli.Pick(q, "duration", &cfg.Duration, 2*time.Second)
	}
	if cfg.Services < 1 || cfg.Clients < 1 || cfg.Duration <= 0 {
		return cfg, fmt.Errorf("--services, --clients and --duration must be positive")
	}
	return cfg, nil
}

func report(w io.Writer, cfg config, rs []results, started time.Time) {
	fmt.Fprintf(w, "\n== cluster DNS: %d Services, %d clients, %v per server (A queries for random Services, inside a lab netns) ==\n",
		cfg.Services, cfg.Clients, cfg.Duration)
	fmt.Fprintf(w, "%-22s %10s %10s %10s %8s %10s\n", "server", "queries/s", "p50", "p99", "errors", "RSS")
	for _, r := range rs {
		if r.failed != nil {
			fmt.Fprintf(w, "%-22s not measured: %v\n", r.name, r.failed)
			continue
		}
		s := stats.Summarize(r.load.latencies, r.load.wall)
		fmt.Fprintf(w, "%-22s %10.0f %10s %10s %8d %10s\n", r.name, s.Rate(), stats.Ms(s.P50), stats.Ms(s.P99), r.load.errors, stats.MiB(r.rss))
	}
	if cfg.CoreDNS == "" {
		fmt.Fprintln(w, "(no --coredns: CoreDNS not measured; hack/bench.sh builds it from the Go module proxy)")
	}
	fmt.Fprintf(w, "nodeagent's RSS is the whole server (API, etcd, controllers and DNS). Run took %v.\n", time.Since(started).Round(time.Second))
}
