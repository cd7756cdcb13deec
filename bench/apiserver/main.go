// Command apiserver benchmarks nodeagent's API server: it runs `nodeagent
// server` on a loopback port with its state in a temporary directory, drives
// it with client-go (creates, lists, watches), reads its RSS, repeats the
// same writes and lists against a plain embedded etcd, prints a report and
// removes everything it made. Run it through `make bench`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/bench/internal/cli"
	"github.com/nodeagent/nodeagent/bench/internal/proc"
	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

// config is what to run. defaultConfig documents the defaults; --quick
// replaces the ones not given on the command line with quickConfig's.
type config struct {
	Bin         string        // the nodeagent binary to run as the server
	Pods        int           // pods stored for the LIST and RSS figures
	Watchers    int           // concurrent watches for the watch figure
	WatchEvents int           // pods created one at a time while watched
	Creates1    int           // creates with one client
	Creates16   int           // creates with Clients concurrent clients
	Clients     int           // concurrent clients for the concurrent creates
	Lists       int           // measured lists of every pod, per encoding
	Timeout     time.Duration // bound on the whole run
}

func defaultConfig() config {
	return config{Bin: "bin/nodeagent", Pods: 10000, Watchers: 100, WatchEvents: 200,
		Creates1: 500, Creates16: 2000, Clients: 16, Lists: 10, Timeout: 20 * time.Minute}
}

// quickConfig is a smoke run: every phase, small numbers.
func quickConfig() config {
	c := defaultConfig()
	c.Pods, c.Watchers, c.WatchEvents, c.Creates1, c.Creates16, c.Lists = 200, 10, 50, 50, 200, 5
	return c
}

// results are the figures of one run.
type results struct {
	rssIdle, rssStored, rssListed uint64
	create1, create16, bulk       stats.Summary
	listJSON, listProto           stats.Summary
	watch                         stats.Summary
	etcd                          etcdResults
}

func main() { cli.Main("apiserver bench", mainErr) }

func mainErr(ctx context.Context, args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	return cli.Timed(ctx, cfg.Timeout, func(ctx context.Context) (*results, error) { return run(ctx, cfg, os.Stderr) },
		func(r *results, started time.Time) { report(os.Stdout, cfg, r, started) })
}

// parseFlags maps the command line onto a config.
func parseFlags(args []string) (config, error) {
	cfg := defaultConfig()
	fs, quick := cli.NewFlagSet("apiserver-bench", &cfg.Bin, "nodeagent binary to run as the server", &cfg.Timeout)
	fs.IntVar(&cfg.Pods, "pods", cfg.Pods, "pods stored for the LIST and RSS figures")
	fs.IntVar(&cfg.Watchers, "watchers", cfg.Watchers, "concurrent watches")
	fs.IntVar(&cfg.WatchEvents, "watch-events", cfg.WatchEvents, "pods created one at a time while watched")
	fs.IntVar(&cfg.Creates1, "creates-1", cfg.Creates1, "creates with one client")
	fs.IntVar(&cfg.Creates16, "creates-n", cfg.Creates16, "creates with --clients concurrent clients")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent clients")
	fs.IntVar(&cfg.Lists, "lists", cfg.Lists, "measured lists per encoding")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *quick {
		cfg = applyQuick(fs, cfg)
	}
	return cfg, cfg.validate()
}

// applyQuick takes quickConfig's value for every flag not set explicitly.
func applyQuick(fs *flag.FlagSet, cfg config) config {
	q, set := quickConfig(), cli.NewQuick(fs)
	cli.Pick(set, "pods", &cfg.Pods, q.Pods)
	cli.Pick(set, "watchers", &cfg.Watchers, q.Watchers)
	cli.Pick(set, "watch-events", &cfg.WatchEvents, q.WatchEvents)
	cli.Pick(set, "creates-1", &cfg.Creates1, q.Creates1)
	cli.Pick(set, "creates-n", &cfg.Creates16, q.Creates16)
	cli.Pick(set, "lists", &cfg.Lists, q.Lists)
	return cfg
}

func (c config) validate() error {
	for _, v := range []int{c.Pods, c.Watchers, c.WatchEvents, c.Creates1, c.Creates16, c.Clients, c.Lists} {
		if v < 1 {
			return errors.New("every count must be at least 1")
		}
	}
	if c.WatchEvents > 9999 || c.Pods > 99999 || c.Creates1 > 99999 || c.Creates16 > 99999 {
		return errors.New("at most 9999 watch events and 99999 pods per phase (pod names have fixed widths)")
	}
	return nil
}

// run measures the API server, stops it, then measures the etcd baseline,
// so that the two never compete for the CPUs.
func run(ctx context.Context, cfg config, progress io.Writer) (*results, error) {
	r := &results{}
	podJSON, err := runAPI(ctx, cfg, r, progress)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(progress, "==> etcd baseline (embedded, in-process)")
	if r.etcd, err = etcdBaseline(ctx, cfg, podJSON); err != nil {
		return nil, err
	}
	return r, nil
}

// runAPI starts the server, measures it and stops it, also on failure.
func runAPI(ctx context.Context, cfg config, r *results, progress io.Writer) (podJSON []byte, err error) {
	fmt.Fprintf(progress, "==> starting %s server on 127.0.0.1\n", cfg.Bin)
	srv, err := startServer(ctx, cfg.Bin)
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := srv.stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	return measureAPI(ctx, cfg, srv, r, progress)
}

// measureAPI runs the API phases in order: creates, watch, then an emptied
// namespace filled with cfg.Pods pods for the lists and the RSS.
func measureAPI(ctx context.Context, cfg config, srv *server, r *results, progress io.Writer) ([]byte, error) {
	restCfg, err := srv.restConfig()
	if err != nil {
		return nil, err
	}
	if r.rssIdle, err = srv.rss(); err != nil {
		return nil, err
	}
	css, closeIdle, err := newClientsets(restCfg, cfg.Clients)
	if err != nil {
		return nil, err
	}
	defer closeIdle()
	fmt.Fprintf(progress, "==> create %d pods with 1 client, %d with %d clients\n", cfg.Creates1, cfg.Creates16, cfg.Clients)
	if r.create1, err = createPods(ctx, css[:1], "c1", cfg.Creates1); err != nil {
		return nil, err
	}
	if r.create16, err = createPods(ctx, css, "c16", cfg.Creates16); err != nil {
		return nil, err
	}
	podJSON, err := storedPodJSON(ctx, css[0], "c1-00000")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "==> watch: %d watchers, %d pods created one at a time\n", cfg.Watchers, cfg.WatchEvents)
	if r.watch, err = measureWatch(ctx, restCfg, css[0], cfg.Watchers, cfg.WatchEvents); err != nil {
		return nil, err
	}
	return podJSON, measureStored(ctx, cfg, srv, css, r, progress)
}

// measureStored empties the namespace, creates cfg.Pods pods, then lists
// them in JSON and in protobuf, reading the RSS before and after the lists.
func measureStored(ctx context.Context, cfg config, srv *server, css []kubernetes.Interface, r *results, progress io.Writer) error {
	fmt.Fprintf(progress, "==> delete the pods, then create %d pods with %d clients\n", cfg.Pods, cfg.Clients)
	if err := deleteAllPods(ctx, css[0]); err != nil {
		return err
	}
	var err error
	if r.bulk, err = createPods(ctx, css, "l", cfg.Pods); err != nil {
		return err
	}
	if r.rssStored, err = srv.rss(); err != nil {
		return err
	}
	fmt.Fprintf(progress, "==> list %d pods, %d times per encoding\n", cfg.Pods, cfg.Lists)
	restCfg, err := srv.restConfig()
	if err != nil {
		return err
	}
	if r.listJSON, err = listWith(ctx, restCfg, mediaJSON, cfg); err != nil {
		return err
	}
	if r.listProto, err = listWith(ctx, restCfg, mediaProtobuf, cfg); err != nil {
		return err
	}
	r.rssListed, err = srv.rss()
	return err
}

func listWith(ctx context.Context, restCfg *rest.Config, media string, cfg config) (stats.Summary, error) {
	c, err := newListClient(restCfg, media)
	if err != nil {
		return stats.Summary{}, err
	}
	defer c.hc.CloseIdleConnections()
	return c.listPods(ctx, cfg.Pods, cfg.Lists)
}

// report prints the figures, one line each, with the etcd baseline and the
// API/etcd ratio beside the comparable ones.
func report(w io.Writer, cfg config, r *results, started time.Time) {
	e := r.etcd
	fmt.Fprintf(w, "nodeagent API server bench  %s  %s %s/%s  nproc %d  %s  (took %s)\n",
		started.Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), proc.CPUModel(), time.Since(started).Round(time.Second))
	fmt.Fprintf(w, "server: nodeagent server --disable-agent; its controllers run (no node: the scheduler marks each pod Unschedulable and records an event)\n")
	fmt.Fprintf(w, "client-go %s (protobuf unless said), HTTPS on 127.0.0.1; etcd baseline: embedded etcd called in-process, pod value %d bytes\n",
		moduleVersion("k8s.io/client-go"), e.valueBytes)
	fmt.Fprintf(w, "ratios are API/etcd: latency >1x means the API server is slower, throughput <1x means it is slower\n\n")
	createLine(w, "create 1 client", r.create1, e.put1)
	createLine(w, fmt.Sprintf("create %d clients", cfg.Clients), r.create16, e.put16)
	fmt.Fprintf(w, "%-20s %d clients %s  %.0f pods/s   (etcd put: %s %.0f/s; ratio time %s)\n",
		fmt.Sprintf("fill %d pods", cfg.Pods), cfg.Clients, stats.Secs(r.bulk.Wall), r.bulk.Rate(),
		stats.Secs(e.bulk.Wall), e.bulk.Rate(), stats.Ratio(r.bulk.Wall.Seconds(), e.bulk.Wall.Seconds()))
	listLine(w, fmt.Sprintf("list %d json", cfg.Pods), r.listJSON, e.get)
	listLine(w, fmt.Sprintf("list %d protobuf", cfg.Pods), r.listProto, e.get)
	fmt.Fprintf(w, "%-20s p50 %s  p99 %s  max %s   (%d watchers x %d events = %d deliveries in %s, %.0f/s)\n",
		"watch delivery", stats.Ms(r.watch.P50), stats.Ms(r.watch.P99), stats.Ms(r.watch.Max), cfg.Watchers, cfg.WatchEvents,
		r.watch.N, stats.Secs(r.watch.Wall), r.watch.Rate())
	fmt.Fprintf(w, "%-20s %s\n", "rss idle", stats.MiB(r.rssIdle))
	fmt.Fprintf(w, "%-20s %s   (after the lists: %s)\n", fmt.Sprintf("rss %d pods", cfg.Pods), stats.MiB(r.rssStored), stats.MiB(r.rssListed))
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
