// Command proxy benchmarks nodeagent's service proxy backends against the
// real kernel: in a throwaway lab network namespace it loads N Services
// with 3 endpoints each (a full sync), changes one Service and one endpoint
// (partial syncs), measures the first-packet connect latency to a Service
// through the rules (against a direct connect to the same endpoint), and
// times the cleanup. With --kube-proxy, --kube-apiserver and --etcd it
// measures a real kube-proxy beside it on the same Services: in a lab node
// of its own, fed by a real kube-apiserver on etcd listening on that node's
// loopback, timed by kube-proxy's own sync-duration metrics. Only addresses
// inside its own namespaces are contacted; everything it makes is removed
// when it ends, also on Ctrl-C. Run it through `make bench`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/cli"
	"github.com/nodeagent/nodeagent/bench/internal/kubeanchor"
)

// config is what to run; defaultConfig documents the defaults.
type config struct {
	Modes    []string      // backends to measure
	Sizes    []int         // numbers of Services
	Changes  int           // partial syncs measured per kind and size
	Connects int           // connects measured at the largest size
	Timeout  time.Duration // bound on the whole run
	// kube-proxy and the anchor that feeds it ("": kube-proxy is not
	// measured).
	KubeProxy, KubeAPIServer, Etcd string
	// Nodeagent is the binary whose `nodeagent proxy` the kube side runs
	// too ("": not; needs KubeProxy's anchor).
	Nodeagent string
}

func defaultConfig() config {
	return config{Modes: []string{"iptables", "nftables"}, Sizes: []int{1000, 5000, 10000},
		Changes: 5, Connects: 300, Timeout: 60 * time.Minute}
}

func quickConfig() config {
	c := defaultConfig()
	c.Sizes, c.Changes, c.Connects, c.Timeout = []int{100, 500}, 3, 50, 10*time.Minute
	return c
}

func main() { cli.Main("proxy-bench", mainErr) }

func mainErr(ctx context.Context, args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	return cli.Timed(ctx, cfg.Timeout, func(ctx context.Context) (runResults, error) { return run(ctx, cfg) },
		func(r runResults, _ time.Time) { report(os.Stdout, cfg, r) })
}

func parseFlags(args []string) (config, error) {
	cfg := defaultConfig()
	fs, quick := cli.NewFlagSet("proxy-bench", nil, "", &cfg.Timeout)
	modes := fs.String("modes", strings.Join(cfg.Modes, ","), "backends to measure")
	sizes := fs.String("sizes", "", "comma-separated numbers of Services (default 1000,5000,10000)")
	fs.IntVar(&cfg.Changes, "changes", cfg.Changes, "partial syncs measured per kind and size")
	fs.IntVar(&cfg.Connects, "connects", cfg.Connects, "connects measured at the largest size")
	fs.StringVar(&cfg.KubeProxy, "kube-proxy", "", "kube-proxy binary to measure beside ours, fed by --kube-apiserver on --etcd (empty: ours only)")
	fs.StringVar(&cfg.KubeAPIServer, "kube-apiserver", "", "kube-apiserver binary that feeds --kube-proxy")
	fs.StringVar(&cfg.Etcd, "etcd", "", "etcd binary for --kube-apiserver")
	fs.StringVar(&cfg.Nodeagent, "nodeagent", "", "nodeagent binary whose `nodeagent proxy` is measured like --kube-proxy, fed by the same kube-apiserver (empty: not)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *quick {
		q, set := quickConfig(), cli.NewQuick(fs)
		cfg.Sizes = q.Sizes
		cli.Pick(set, "changes", &cfg.Changes, q.Changes)
		cli.Pick(set, "connects", &cfg.Connects, q.Connects)
		cli.Pick(set, "timeout", &cfg.Timeout, q.Timeout)
	}
	cfg.Modes = strings.Split(*modes, ",")
	if *sizes != "" {
		cfg.Sizes = nil
		for _, s := range strings.Split(*sizes, ",") {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return cfg, fmt.Errorf("--sizes: %q is not a positive number", s)
			}
			cfg.Sizes = append(cfg.Sizes, n)
		}
	}
	if (cfg.KubeProxy == "") != (cfg.KubeAPIServer == "") || (cfg.KubeProxy == "") != (cfg.Etcd == "") {
		return cfg, errors.New("--kube-proxy, --kube-apiserver and --etcd go together: kube-proxy is fed by kube-apiserver on an etcd of its own")
	}
	return cfg, nil
}

// kubeWanted says whether kube-proxy is to be measured, or why not.
func (c config) kubeWanted() (kubeBins, string) {
	if c.KubeProxy == "" {
		return kubeBins{}, "no --kube-proxy/--kube-apiserver/--etcd given (hack/bench.sh builds them from the Go module proxy)"
	}
	return kubeBins{proxy: c.KubeProxy, anchor: kubeanchor.Bins{APIServer: c.KubeAPIServer, Etcd: c.Etcd}, ours: c.Nodeagent}, ""
}

// runResults are the figures of a run.
type runResults struct {
	rows        []result // by size, then mode
	kubeProxy   string   // kube-proxy's version ("": not measured)
	kubeSkipped string   // why kube-proxy was not measured
}

// run measures every mode at every size, ours and then kube-proxy's (one
// at a time: they never compete for the CPUs). The kube side starts after
// ours is measured at the first size: kube-apiserver's start keeps a core
// busy for a minute, which made our first full sync half as slow again.
func run(ctx context.Context, cfg config) (r runResults, err error) {
	if os.Geteuid() != 0 {
		return r, fmt.Errorf("needs root: it creates network namespaces and programs netfilter in them")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bins, why := cfg.kubeWanted()
	var kube *kubeSide
	defer func() {
		if kube != nil {
			err = errors.Join(err, kube.down())
		}
	}()
	startKube := func() (*kubeSide, error) {
		if why != "" || kube != nil {
			return kube, nil
		}
		fmt.Fprintf(os.Stderr, "==> starting %s on %s in a lab node, for %s\n", bins.anchor.APIServer, bins.anchor.Etcd, bins.proxy)
		k, err := startKubeSide(ctx, bins)
		if err != nil {
			return nil, err
		}
		kube, r.kubeProxy = k, k.version
		return kube, nil
	}
	r.kubeSkipped = why
	for i, n := range cfg.Sizes {
		connects := 0
		if i == len(cfg.Sizes)-1 {
			connects = cfg.Connects
		}
		rows, err := runSize(ctx, log, cfg, startKube, n, connects)
		if err != nil {
			return r, err
		}
		r.rows = append(r.rows, rows...)
	}
	return r, nil
}

// runSize measures every mode at n Services: ours, then kube-proxy's.
func runSize(ctx context.Context, log *slog.Logger, cfg config, startKube func() (*kubeSide, error), n, connects int) ([]result, error) {
	var rows []result
	for _, mode := range cfg.Modes {
		fmt.Fprintf(os.Stderr, "==> nodeagent %s, %d services\n", mode, n)
		r, err := measure(ctx, log, mode, n, cfg.Changes, connects)
		if err != nil {
			return nil, fmt.Errorf("%s at %d services: %w", mode, n, err)
		}
		rows = append(rows, r)
	}
	kube, err := startKube()
	if err != nil || kube == nil {
		return rows, err
	}
	fmt.Fprintf(os.Stderr, "==> loading %d services into kube-apiserver\n", n)
	if err := kube.load(ctx, n); err != nil {
		return nil, err
	}
	for i, mode := range cfg.Modes {
		fmt.Fprintf(os.Stderr, "==> kube-proxy %s, %d services\n", mode, n)
		kp, err := kube.measure(ctx, kube.kubeProxy(), mode, n, cfg.Changes)
		if err != nil {
			return nil, fmt.Errorf("kube-proxy %s at %d services: %w", mode, n, err)
		}
		rows[i].kp = &kp
		if kube.ours == "" {
			continue
		}
		fmt.Fprintf(os.Stderr, "==> nodeagent proxy %s, %d services\n", mode, n)
		ours, err := kube.measure(ctx, kube.nodeagentProxy(), mode, n, cfg.Changes)
		if err != nil {
			return nil, fmt.Errorf("nodeagent proxy %s at %d services: %w", mode, n, err)
		}
		rows[i].daemon = &ours
	}
	return rows, nil
}
