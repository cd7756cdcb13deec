// Command apiserver benchmarks nodeagent's API server: it runs `nodeagent
// server` on a loopback port with its state in a temporary directory, drives
// it with client-go (creates, lists, watches), reads its RSS, repeats the
// same writes and lists against a plain embedded etcd, prints a report and
// removes everything it made. Run it through `make bench`.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
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
	create1, create16, bulk       summary
	listJSON, listProto           summary
	watch                         summary
	etcd                          etcdResults
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := mainErr(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "apiserver bench: %v\n", err)
		os.Exit(1)
	}
}

func mainErr(ctx context.Context, args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	started := time.Now()
	r, err := run(ctx, cfg, os.Stderr)
	if err != nil {
		return err
	}
	report(os.Stdout, cfg, r, started)
	return nil
}

// parseFlags maps the command line onto a config.
func parseFlags(args []string) (config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("apiserver-bench", flag.ContinueOnError)
	fs.StringVar(&cfg.Bin, "bin", cfg.Bin, "nodeagent binary to run as the server")
	fs.IntVar(&cfg.Pods, "pods", cfg.Pods, "pods stored for the LIST and RSS figures")
	fs.IntVar(&cfg.Watchers, "watchers", cfg.Watchers, "concurrent watches")
	fs.IntVar(&cfg.WatchEvents, "watch-events", cfg.WatchEvents, "pods created one at a time while watched")
	fs.IntVar(&cfg.Creates1, "creates-1", cfg.Creates1, "creates with one client")
	fs.IntVar(&cfg.Creates16, "creates-n", cfg.Creates16, "creates with --clients concurrent clients")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent clients")
	fs.IntVar(&cfg.Lists, "lists", cfg.Lists, "measured lists per encoding")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound on the whole run")
	quick := fs.Bool("quick", false, "small numbers for a smoke run (explicit flags still win)")
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
	q := quickConfig()
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	pick := func(name string, dst *int, v int) {
		if !set[name] {
			*dst = v
		}
	}
	pick("pods", &cfg.Pods, q.Pods)
	pick("watchers", &cfg.Watchers, q.Watchers)
	pick("watch-events", &cfg.WatchEvents, q.WatchEvents)
	pick("creates-1", &cfg.Creates1, q.Creates1)
	pick("creates-n", &cfg.Creates16, q.Creates16)
	pick("lists", &cfg.Lists, q.Lists)
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

func listWith(ctx context.Context, restCfg *rest.Config, media string, cfg config) (summary, error) {
	c, err := newListClient(restCfg, media)
	if err != nil {
		return summary{}, err
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
		runtime.NumCPU(), cpuModel(), time.Since(started).Round(time.Second))
	fmt.Fprintf(w, "server: nodeagent server --disable-agent; its controllers run (no node: the scheduler marks each pod Unschedulable and records an event)\n")
	fmt.Fprintf(w, "client-go %s (protobuf unless said), HTTPS on 127.0.0.1; etcd baseline: embedded etcd called in-process, pod value %d bytes\n",
		moduleVersion("k8s.io/client-go"), e.valueBytes)
	fmt.Fprintf(w, "ratios are API/etcd: latency >1x means the API server is slower, throughput <1x means it is slower\n\n")
	createLine(w, "create 1 client", r.create1, e.put1)
	createLine(w, fmt.Sprintf("create %d clients", cfg.Clients), r.create16, e.put16)
	fmt.Fprintf(w, "%-20s %d clients %s  %.0f pods/s   (etcd put: %s %.0f/s; ratio time %s)\n",
		fmt.Sprintf("fill %d pods", cfg.Pods), cfg.Clients, secs(r.bulk.Wall), r.bulk.rate(),
		secs(e.bulk.Wall), e.bulk.rate(), ratio(r.bulk.Wall.Seconds(), e.bulk.Wall.Seconds()))
	listLine(w, fmt.Sprintf("list %d json", cfg.Pods), r.listJSON, e.get)
	listLine(w, fmt.Sprintf("list %d protobuf", cfg.Pods), r.listProto, e.get)
	fmt.Fprintf(w, "%-20s p50 %s  p99 %s  max %s   (%d watchers x %d events = %d deliveries in %s, %.0f/s)\n",
		"watch delivery", ms(r.watch.P50), ms(r.watch.P99), ms(r.watch.Max), cfg.Watchers, cfg.WatchEvents,
		r.watch.N, secs(r.watch.Wall), r.watch.rate())
	fmt.Fprintf(w, "%-20s %s\n", "rss idle", mib(r.rssIdle))
	fmt.Fprintf(w, "%-20s %s   (after the lists: %s)\n", fmt.Sprintf("rss %d pods", cfg.Pods), mib(r.rssStored), mib(r.rssListed))
}

func createLine(w io.Writer, label string, api, etcd summary) {
	fmt.Fprintf(w, "%-20s p50 %s  p99 %s  %.0f pods/s   (etcd put: p50 %s p99 %s %.0f/s; ratio p50 %s p99 %s throughput %s)\n",
		label, ms(api.P50), ms(api.P99), api.rate(), ms(etcd.P50), ms(etcd.P99), etcd.rate(),
		ratio(float64(api.P50), float64(etcd.P50)), ratio(float64(api.P99), float64(etcd.P99)),
		ratio(api.rate(), etcd.rate()))
}

func listLine(w io.Writer, label string, api, etcd summary) {
	fmt.Fprintf(w, "%-20s p50 %s  p99 %s  (n=%d)   (etcd get prefix: p50 %s p99 %s; ratio p50 %s p99 %s)\n",
		label, ms(api.P50), ms(api.P99), api.N, ms(etcd.P50), ms(etcd.P99),
		ratio(float64(api.P50), float64(etcd.P50)), ratio(float64(api.P99), float64(etcd.P99)))
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
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
