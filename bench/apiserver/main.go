// Command apiserver benchmarks nodeagent's API server: it runs `nodeagent
// server` on a loopback port with its state in a temporary directory, drives
// it with client-go (creates, lists, selector lists, watches) and reads its
// RSS; with --kube-apiserver and --etcd it then does the same, with the same
// code, to a real kube-apiserver on an etcd of its own (the anchor, also on
// loopback), one target at a time; then it repeats the writes and lists
// against a plain embedded etcd, prints a report with the two servers side
// by side, and removes everything it made. Run it through `make bench`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/cli"
	"github.com/nodeagent/nodeagent/bench/internal/kubeanchor"
)

// config is what to run. defaultConfig documents the defaults; --quick
// replaces the ones not given on the command line with quickConfig's.
type config struct {
	Bin           string        // the nodeagent binary to run as the server
	KubeAPIServer string        // kube-apiserver binary of the anchor ("": no anchor)
	Etcd          string        // etcd binary of the anchor
	Pods          int           // pods stored for the RSS figures
	ListPods      int           // pods stored for the LIST figures (the first ones of Pods)
	Nodes         int           // nodes the pods are bound to, evenly
	Watchers      int           // concurrent watches for the watch figure
	WatchEvents   int           // pods created one at a time while watched
	Creates1      int           // creates with one client
	Creates16     int           // creates with Clients concurrent clients
	Clients       int           // concurrent clients for the concurrent creates
	Lists         int           // measured lists of each kind
	RSSWindow     time.Duration // how long the RSS is sampled at rest (idle, stored)
	HeapProfiles  string        // directory for each target's heap profile with every pod stored ("": none)
	Timeout       time.Duration // bound on the whole run
}

func defaultConfig() config {
	return config{Bin: "bin/nodeagent", Pods: 10000, ListPods: 5000, Nodes: 50, Watchers: 100, WatchEvents: 200,
		Creates1: 500, Creates16: 2000, Clients: 16, Lists: 10, RSSWindow: 10 * time.Second, Timeout: 40 * time.Minute}
}

// quickConfig is a smoke run: every phase, small numbers.
func quickConfig() config {
	c := defaultConfig()
	c.Pods, c.ListPods, c.Nodes, c.Watchers, c.WatchEvents, c.Creates1, c.Creates16, c.Lists = 200, 100, 10, 10, 50, 50, 200, 5
	c.RSSWindow = time.Second
	return c
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
	fs.StringVar(&cfg.KubeAPIServer, "kube-apiserver", "", "kube-apiserver binary to measure beside ours, on --etcd (empty: ours only)")
	fs.StringVar(&cfg.Etcd, "etcd", "", "etcd binary for --kube-apiserver")
	fs.IntVar(&cfg.Pods, "pods", cfg.Pods, "pods stored for the RSS figures")
	fs.IntVar(&cfg.ListPods, "list-pods", cfg.ListPods, "pods stored for the LIST figures (at most --pods)")
	fs.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "nodes the pods are bound to (1-99)")
	fs.IntVar(&cfg.Watchers, "watchers", cfg.Watchers, "concurrent watches")
	fs.IntVar(&cfg.WatchEvents, "watch-events", cfg.WatchEvents, "pods created one at a time while watched")
	fs.IntVar(&cfg.Creates1, "creates-1", cfg.Creates1, "creates with one client")
	fs.IntVar(&cfg.Creates16, "creates-n", cfg.Creates16, "creates with --clients concurrent clients")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent clients")
	fs.IntVar(&cfg.Lists, "lists", cfg.Lists, "measured lists of each kind")
	fs.StringVar(&cfg.HeapProfiles, "heap-profiles", "", "directory to write each server's heap profile (/debug/pprof/heap) to, taken after the RSS with every pod stored")
	fs.DurationVar(&cfg.RSSWindow, "rss-window", cfg.RSSWindow, "how long the RSS is sampled at rest (every 200ms; the median is reported)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
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
	cli.Pick(set, "list-pods", &cfg.ListPods, q.ListPods)
	cli.Pick(set, "nodes", &cfg.Nodes, q.Nodes)
	cli.Pick(set, "watchers", &cfg.Watchers, q.Watchers)
	cli.Pick(set, "watch-events", &cfg.WatchEvents, q.WatchEvents)
	cli.Pick(set, "creates-1", &cfg.Creates1, q.Creates1)
	cli.Pick(set, "creates-n", &cfg.Creates16, q.Creates16)
	cli.Pick(set, "lists", &cfg.Lists, q.Lists)
	cli.Pick(set, "rss-window", &cfg.RSSWindow, q.RSSWindow)
	return cfg
}

func (c config) validate() error {
	for _, v := range []int{c.Pods, c.ListPods, c.Nodes, c.Watchers, c.WatchEvents, c.Creates1, c.Creates16, c.Clients, c.Lists} {
		if v < 1 {
			return errors.New("every count must be at least 1")
		}
	}
	if c.WatchEvents > 9999 || c.Pods > 99999 || c.Creates1 > 99999 || c.Creates16 > 99999 || c.Nodes > 99 {
		return errors.New("at most 9999 watch events, 99999 pods per phase and 99 nodes (names have fixed widths)")
	}
	if c.RSSWindow < 0 {
		return errors.New("--rss-window must not be negative")
	}
	if c.ListPods > c.Pods {
		return fmt.Errorf("--list-pods %d is more than --pods %d: the listed pods are the first of the stored ones", c.ListPods, c.Pods)
	}
	if (c.KubeAPIServer == "") != (c.Etcd == "") {
		return errors.New("--kube-apiserver and --etcd go together: the anchor is kube-apiserver on an etcd of its own")
	}
	return nil
}

// anchorWanted says whether the anchor is to be measured, or why not.
func (c config) anchorWanted() (kubeanchor.Bins, string) {
	if c.KubeAPIServer == "" {
		return kubeanchor.Bins{}, "no --kube-apiserver/--etcd given (hack/bench.sh builds them from the Go module proxy)"
	}
	return kubeanchor.Bins{APIServer: c.KubeAPIServer, Etcd: c.Etcd}, ""
}

// run measures our server, then the anchor, then the plain etcd baseline,
// each stopped before the next starts, so that they never compete for the
// CPUs.
func run(ctx context.Context, cfg config, progress io.Writer) (*results, error) {
	r := &results{}
	var err error
	if r.ours, err = runTarget(ctx, cfg, progress, func(ctx context.Context) (target, error) {
		fmt.Fprintf(progress, "==> starting %s server on 127.0.0.1\n", cfg.Bin)
		return startServer(ctx, cfg.Bin)
	}); err != nil {
		return nil, err
	}
	bins, why := cfg.anchorWanted()
	if why != "" {
		r.kubeSkipped = why
	} else if r.kube, err = runAnchor(ctx, cfg, bins, progress); err != nil {
		return nil, err
	}
	fmt.Fprintln(progress, "==> etcd baseline (embedded, in-process)")
	if r.etcd, err = etcdBaseline(ctx, cfg, r.ours.podJSON); err != nil {
		return nil, err
	}
	return r, nil
}

// runAnchor measures kube-apiserver on its etcd.
func runAnchor(ctx context.Context, cfg config, bins kubeanchor.Bins, progress io.Writer) (*targetResults, error) {
	var versions string
	tr, err := runTarget(ctx, cfg, progress, func(ctx context.Context) (target, error) {
		fmt.Fprintf(progress, "==> starting %s on %s, both on 127.0.0.1\n", bins.APIServer, bins.Etcd)
		k, err := startKube(ctx, bins)
		if err == nil {
			versions = k.APIServerVersion + " on " + k.EtcdVersion
		}
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("anchor: %w", err)
	}
	tr.versions = versions
	return &tr, nil
}
