package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/stats"
	"github.com/nodeagent/nodeagent/internal/nsutil"
	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/iptables"
	"github.com/nodeagent/nodeagent/proxy/nftables"
)

// result is one mode at one size.
type result struct {
	mode              string
	services          int
	full, addOne      time.Duration
	endpoint, cleanup time.Duration
	rules             int
	connect, direct   stats.Summary
	kp                *kpResult // kube-proxy's, when measured
	daemon            *kpResult // `nodeagent proxy` fed like kube-proxy, when measured
}

// fullRuns is how many full syncs measure takes the median of.
const fullRuns = 3

// measure runs one mode at one size in a lab of its own.
func measure(ctx context.Context, log *slog.Logger, mode string, n, changes, connects int) (result, error) {
	r := result{mode: mode, services: n}
	l, err := newBenchLab()
	if err != nil {
		return r, err
	}
	defer l.down()
	b, err := backend(mode, l, log)
	if err != nil {
		return r, err
	}
	// Every sync is timed from the tracker's snapshot on, as kube-proxy's
	// sync metric counts applying its change trackers. The full sync is
	// the median of fullRuns, each onto an empty table from a new
	// tracker's first snapshot: one run of about half a second moved by a
	// fifth between runs on this machine.
	var tr *proxy.Tracker
	var fulls []time.Duration
	for i := range fullRuns {
		if i > 0 {
			if err := b.Cleanup(ctx); err != nil {
				return r, fmt.Errorf("cleanup between full syncs: %w", err)
			}
		}
		tr = benchTracker(n)
		d, err := timed(func() error { return b.Sync(ctx, tr.Snapshot(), true) })
		if err != nil {
			return r, fmt.Errorf("full sync: %w", err)
		}
		fulls = append(fulls, d)
	}
	r.full = stats.Percentile(fulls, 50)
	r.rules = l.countRules(mode)
	if r.addOne, err = partials(ctx, b, tr, changes, func(i int) { addService(tr, n+i) }); err != nil {
		return r, fmt.Errorf("add one service: %w", err)
	}
	if r.endpoint, err = partials(ctx, b, tr, changes, func(i int) { moveEndpoint(tr, 1, i) }); err != nil {
		return r, fmt.Errorf("endpoint change: %w", err)
	}
	if connects > 0 {
		if r.connect, r.direct, err = connectLatency(ctx, l, connects); err != nil {
			return r, err
		}
	}
	if r.cleanup, err = timed(func() error { return b.Cleanup(ctx) }); err != nil {
		return r, fmt.Errorf("cleanup: %w", err)
	}
	return r, nil
}

func backend(mode string, l *benchLab, log *slog.Logger) (proxy.Backend, error) {
	cfg := proxy.DefaultConfig()
	switch mode {
	case "iptables":
		return iptables.New(cfg, iptables.NewRunner("ip", "netns", "exec", l.node.Config().NetNSName()), log), nil
	case "nftables":
		nft, err := nftables.NewInterfaceInNetNS(l.node.NetNSPath())
		if err != nil {
			return nil, err
		}
		return nftables.New(cfg, nft, log), nil
	}
	return nil, fmt.Errorf("unknown mode %q (iptables, nftables; ipvs needs a kernel with IPVS)", mode)
}

func timed(fn func() error) (time.Duration, error) {
	start := time.Now()
	err := fn()
	return time.Since(start), err
}

// partials makes k changes in the tracker, one at a time, each followed
// by a partial sync of the tracker's snapshot, and returns the median
// sync time.
func partials(ctx context.Context, b proxy.Backend, tr *proxy.Tracker, k int, change func(i int)) (time.Duration, error) {
	var took []time.Duration
	for i := 0; i < k; i++ {
		change(i)
		d, err := timed(func() error { return b.Sync(ctx, tr.Snapshot(), false) })
		if err != nil {
			return 0, err
		}
		took = append(took, d)
	}
	return stats.Percentile(took, 50), nil
}

// connectLatency times new TCP connections from the node to the first
// Service and, for comparison, straight to one of its endpoints, taken in
// turns so that both see the same machine, all on one thread inside the
// node's namespace.
func connectLatency(ctx context.Context, l *benchLab, k int) (svc, direct stats.Summary, err error) {
	err = nsutil.Do(l.node.NetNSPath(), func() error {
		var through, straight []time.Duration
		start := time.Now()
		for i := 0; i < k; i++ {
			d, err := dialOnce(ctx, firstServiceAddr)
			if err != nil {
				return fmt.Errorf("connect through the service: %w", err)
			}
			through = append(through, d)
			if d, err = dialOnce(ctx, l.endpointAddr()); err != nil {
				return fmt.Errorf("connect to the endpoint: %w", err)
			}
			straight = append(straight, d)
		}
		wall := time.Since(start)
		svc, direct = stats.Summarize(through, wall), stats.Summarize(straight, wall)
		return nil
	})
	return svc, direct, err
}

// dialOnce times one connect (SYN to SYN-ACK) to addr.
func dialOnce(ctx context.Context, addr string) (time.Duration, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	t0 := time.Now()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	took := time.Since(t0)
	c.Close()
	return took, nil
}
