package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/kubeanchor"
	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

// kubeBins are kube-proxy and the anchor that feeds it, and nodeagent's
// binary, whose `nodeagent proxy` is measured the same way ("": not).
type kubeBins struct {
	proxy  string
	anchor kubeanchor.Bins
	ours   string
}

// daemon is a proxy the kube side runs against the anchor: kube-proxy, or
// `nodeagent proxy`, both read through the same metrics.
type daemon struct {
	name    string
	bin     string
	args    func(kubeconfig, mode string) []string
	cleanup []string // the arguments that remove everything it made
}

func (k *kubeSide) kubeProxy() daemon {
	return daemon{name: "kube-proxy", bin: k.bin, args: kubeProxyArgs, cleanup: []string{"--cleanup"}}
}

func (k *kubeSide) nodeagentProxy() daemon {
	return daemon{name: "nodeagent-proxy", bin: k.ours, args: nodeagentProxyArgs, cleanup: []string{"proxy", "--cleanup"}}
}

// nodeagentProxyArgs run `nodeagent proxy` as kubeProxyArgs run
// kube-proxy: same credentials, Node, cluster CIDR and listeners, the
// periodic full sync out of the way.
func nodeagentProxyArgs(kubeconfig, mode string) []string {
	return []string{"proxy",
		"--kubeconfig=" + kubeconfig, "--proxy-mode=" + mode,
		"--node-name=" + kubeNodeName, "--cluster-cidr=10.244.0.0/16",
		"--healthz-bind-address=127.0.0.1:10256", "--metrics-bind-address=127.0.0.1:10249",
		"--proxy-full-sync-interval=1h",
	}
}

// kpResult is kube-proxy in one mode at one size, each sync figure from
// its own sync-duration histograms.
type kpResult struct {
	full             time.Duration // its first sync: full, with every Service present
	addOne, endpoint time.Duration // median over the changes of the sync time each caused
	cleanup          time.Duration // wall time of `kube-proxy --cleanup`
	rss              uint64        // VmRSS after the changes
}

const (
	// kubeProxyMetrics is kube-proxy's metrics URL, inside the lab node.
	kubeProxyMetrics = "http://127.0.0.1:10249/metrics"
	// syncWait bounds the wait for one sync (10,000 Services in iptables
	// mode took kube-proxy about a minute).
	syncWait = 10 * time.Minute
	// settle is how long no further sync must follow a change's first
	// one before the change counts as programmed: more than kube-proxy's
	// default --iptables-min-sync-period (1 s), so that the sync of a
	// second object (a new Service's EndpointSlice) is counted too.
	settle = 2 * time.Second
	// cleanupBound bounds `kube-proxy --cleanup` when the run is torn
	// down after a failure.
	cleanupBound = 2 * time.Minute
)

// kubeProxyArgs run kube-proxy in mode as system:kube-proxy on Node
// kubeNodeName, with its health and metrics servers on the lab node's
// loopback only, the host-wide conntrack sysctls left alone, and the
// periodic resync (default 30 s) moved out of the measurement's way (1 h).
func kubeProxyArgs(kubeconfig, mode string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig, "--proxy-mode=" + mode,
		"--hostname-override=" + kubeNodeName, "--cluster-cidr=10.244.0.0/16",
		"--conntrack-max-per-core=0", "--conntrack-tcp-timeout-established=0", "--conntrack-tcp-timeout-close-wait=0",
		"--healthz-bind-address=127.0.0.1:10256", "--metrics-bind-address=127.0.0.1:10249",
		"--iptables-sync-period=1h", "--v=1",
	}
}

// measure starts d in mode on the anchor's n Services and times its
// first (full) sync, changes, cleanup and RSS. Every Service it adds is
// removed again (before d stops: its cleanup has nothing to do with
// them), so the next proxy sees n.
func (k *kubeSide) measure(ctx context.Context, d daemon, mode string, n, changes int) (r kpResult, err error) {
	kp, err := kubeanchor.StartChildWith(k.node.Start, k.anchor.Dir(), fmt.Sprintf("%s-%s-%d", d.name, mode, n), d.bin, d.args(k.kubeconfig, mode)...)
	if err != nil {
		return r, err
	}
	running := true
	defer func() {
		if running {
			kp.Stop()
		}
	}()
	m, err := k.waitSync(ctx, kp, histo{}, func(m syncMetrics) histo { return m.full })
	if err != nil {
		return r, fmt.Errorf("first full sync: %w", err)
	}
	r.full, _ = m.full.since(histo{})
	var added []string
	if r.addOne, err = k.changes(ctx, kp, changes, func(i int) error {
		name := fmt.Sprintf("new-%s-%d", mode, i)
		added = append(added, name)
		return k.createService(ctx, name, n+i)
	}); err != nil {
		return r, fmt.Errorf("add one service: %w", err)
	}
	if r.endpoint, err = k.changes(ctx, kp, changes, func(i int) error { return k.moveEndpoint(ctx, 1, i) }); err != nil {
		return r, fmt.Errorf("endpoint change: %w", err)
	}
	if r.rss, err = kp.RSS(); err != nil {
		return r, err
	}
	for _, name := range added {
		if err := k.deleteService(ctx, name); err != nil {
			return r, err
		}
	}
	running = false
	if err := kp.Stop(); err != nil {
		return r, err
	}
	r.cleanup, err = k.cleanup(ctx, d)
	return r, err
}

// changes makes count changes one after the other and returns the median
// of the sync time each caused (the sum of the IPv4 syncs that followed
// it until settle passed without another).
func (k *kubeSide) changes(ctx context.Context, kp *kubeanchor.Child, count int, change func(i int) error) (time.Duration, error) {
	var took []time.Duration
	for i := 0; i < count; i++ {
		before, err := scrape(ctx, k.metrics, kubeProxyMetrics)
		if err != nil {
			return 0, err
		}
		if err := change(i); err != nil {
			return 0, err
		}
		after, err := k.waitSync(ctx, kp, before.all, func(m syncMetrics) histo { return m.all })
		if err != nil {
			return 0, err
		}
		took = append(took, after.all.sumSince(before.all))
	}
	return stats.Percentile(took, 50), nil
}

// waitSync polls kube-proxy's metrics until the histogram pick chooses has
// counted a sync more than before and then none more for settle; it fails
// if kube-proxy exits or syncWait passes.
func (k *kubeSide) waitSync(parent context.Context, kp *kubeanchor.Child, before histo, pick func(syncMetrics) histo) (syncMetrics, error) {
	ctx, cancel := context.WithTimeout(parent, syncWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last syncMetrics
	var lastErr error
	var changed time.Time // when pick(last) last grew
	for {
		m, err := scrape(ctx, k.metrics, kubeProxyMetrics)
		lastErr = err
		if err == nil {
			if pick(m).count != pick(last).count {
				last, changed = m, time.Now()
			}
			if pick(last).count > before.count && time.Since(changed) >= settle {
				return last, nil
			}
		}
		select {
		case <-kp.Exited():
			return last, fmt.Errorf("%s exited: %s", kp.Name(), kp.LogTail())
		case <-ctx.Done():
			if err := parent.Err(); err != nil {
				return last, err
			}
			return last, fmt.Errorf("no sync within %s (last scrape: %v): %s", syncWait, lastErr, kp.LogTail())
		case <-tick.C:
		}
	}
}

// cleanup times d's cleanup run in the lab node (`kube-proxy --cleanup`
// removes every rule kube-proxy makes in any mode; `nodeagent proxy
// --cleanup` those of every nodeagent mode).
func (k *kubeSide) cleanup(ctx context.Context, d daemon) (time.Duration, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, d.bin, d.cleanup...)
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := k.node.Run(cmd)
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("%s %s: %w: %s", d.name, strings.Join(d.cleanup, " "), err, strings.TrimSpace(out.String()))
	}
	return took, nil
}
