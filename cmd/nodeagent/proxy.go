package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/healthcheck"
	"github.com/nodeagent/nodeagent/proxy/iptables"
	"github.com/nodeagent/nodeagent/proxy/ipvs"
	proxymetrics "github.com/nodeagent/nodeagent/proxy/metrics"
	"github.com/nodeagent/nodeagent/proxy/nftables"
	"github.com/nodeagent/nodeagent/proxy/svchealth"
)

// Proxy modes; auto tries ipvs, then nftables, then iptables.
const (
	modeIPTables = "iptables"
	modeNFTables = "nftables"
	modeIPVS     = "ipvs"
	modeAuto     = "auto"
)

// proxyOptions are the proxy's flags.
type proxyOptions struct {
	mode          string
	cfg           proxy.Config
	runner        proxy.RunnerConfig
	ipvsScheduler string
	// ipvsNoMasqBit is the IPVS backend's NoMasqueradeBit.
	ipvsNoMasqBit int
	nodeIPs       []netip.Addr
	disabled      bool
	// healthzBindAddress and metricsBindAddress are kube-proxy's
	// --healthz-bind-address and --metrics-bind-address ("": off).
	healthzBindAddress, metricsBindAddress string
	// onFirstSync, if set, is called after the first sync that applied
	// (the service manager's readiness).
	onFirstSync func()
}

func defaultProxyOptions() *proxyOptions {
	return &proxyOptions{mode: modeIPTables, cfg: proxy.DefaultConfig(), runner: proxy.DefaultRunnerConfig(), ipvsScheduler: "rr",
		ipvsNoMasqBit:      ipvs.DefaultConfig().NoMasqueradeBit,
		healthzBindAddress: "0.0.0.0:10256", metricsBindAddress: "127.0.0.1:10249"}
}

// proxyServingFlags maps the health and metrics listeners' flags, named
// prefix + kube-proxy's names (the agent's own --healthz-bind-address is
// kubelet's, so inside the agent they are --proxy-...).
func proxyServingFlags(fs *flag.FlagSet, o *proxyOptions, prefix string) {
	fs.Func(prefix+"healthz-bind-address", "IP:port of the proxy's /healthz and /livez, plain HTTP without credentials, as kube-proxy's (default 0.0.0.0:10256; empty: off)",
		bindAddressFlag(&o.healthzBindAddress))
	fs.Func(prefix+"metrics-bind-address", "IP:port of the proxy's /metrics, plain HTTP without credentials, as kube-proxy's (default 127.0.0.1:10249; empty: off)",
		bindAddressFlag(&o.metricsBindAddress))
}

// proxyFlags maps flags onto the proxy's options.
func proxyFlags(fs *flag.FlagSet, o *proxyOptions) {
	fs.StringVar(&o.mode, "proxy-mode", o.mode, "service proxy mode: iptables, nftables, ipvs, or auto (ipvs, else nftables, else iptables)")
	fs.Func("cluster-cidr", "pod range; traffic to a cluster IP from outside it is masqueraded (default 10.244.0.0/16)", func(v string) error {
		p, err := netip.ParsePrefix(v)
		o.cfg.ClusterCIDR = p
		return err
	})
	fs.IntVar(&o.cfg.MasqueradeBit, "masquerade-bit", o.cfg.MasqueradeBit, "packet-mark bit that asks for masquerade")
	fs.DurationVar(&o.runner.MinSyncInterval, "proxy-min-sync-interval", o.runner.MinSyncInterval, "least time between two proxy syncs")
	fs.DurationVar(&o.runner.FullSyncInterval, "proxy-full-sync-interval", o.runner.FullSyncInterval, "how often the proxy rewrites everything")
	fs.StringVar(&o.ipvsScheduler, "ipvs-scheduler", o.ipvsScheduler, "IPVS scheduler: rr, lc, sh (also wrr, wlc, dh)")
	fs.IntVar(&o.ipvsNoMasqBit, "ipvs-no-masquerade-bit", o.ipvsNoMasqBit, "packet-mark bit with which IPVS mode keeps the client's address for externalTrafficPolicy Local")
	fs.Func("nodeport-addresses", "comma-separated addresses node ports answer on (default: the node's IPv4 addresses)", func(v string) error {
		for _, s := range strings.Split(v, ",") {
			ip, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				return err
			}
			o.nodeIPs = append(o.nodeIPs, ip)
		}
		return nil
	})
}

// validate refuses what the proxy cannot run with, naming the flags.
func (o *proxyOptions) validate() error {
	var errs []error
	switch o.mode {
	case modeIPTables, modeNFTables, modeIPVS, modeAuto:
	default:
		errs = append(errs, fmt.Errorf("--proxy-mode: unknown mode %q: use iptables, nftables, ipvs or auto", o.mode))
	}
	if b := o.ipvsNoMasqBit; (o.mode == modeIPVS || o.mode == modeAuto) && (b < 0 || b > 31 || b == o.cfg.MasqueradeBit) {
		errs = append(errs, fmt.Errorf("--ipvs-no-masquerade-bit: %d is not a bit of the packet mark (0-31) other than --masquerade-bit", b))
	}
	return errors.Join(append(errs, o.cfg.Validate(), o.runner.Validate())...)
}

// runProxy is `nodeagent proxy`: the service proxy alone.
func runProxy(ctx context.Context, env *environment, args []string) error {
	o := defaultProxyOptions()
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	proxyFlags(fs, o)
	proxyServingFlags(fs, o, "")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig with the node's (or any reader's) credentials")
	host, _ := os.Hostname()
	nodeName := strings.ToLower(host)
	fs.StringVar(&nodeName, "node-name", nodeName, "this node's name (its endpoints are the local ones)")
	cleanup := fs.Bool("cleanup", false, "remove every rule, chain, table and virtual server any proxy mode made, then exit")
	if err := env.parseFlags(fs, args); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	if *cleanup {
		return cleanupProxy(ctx, env.log, "")
	}
	if *kubeconfig == "" {
		return fmt.Errorf("--kubeconfig is required")
	}
	client, err := clientFor(*kubeconfig)
	if err != nil {
		return err
	}
	env.startReadiness(ctx, "proxy")
	o.onFirstSync = env.ready.marker("proxy")
	return startProxy(ctx, env.log.With("component", "proxy"), o, client, nodeName)
}

// startProxy picks the backend, removes what other modes left, and runs the
// proxy until ctx ends. SIGHUP asks for a full sync.
func startProxy(ctx context.Context, log *slog.Logger, o *proxyOptions, client kubernetes.Interface, nodeName string) error {
	if err := o.validate(); err != nil {
		return fmt.Errorf("proxy configuration: %w", err)
	}
	b, err := newBackend(ctx, log, o)
	if err != nil {
		return err
	}
	if pid, ok := proxy.KubeProxyHere("/proc"); ok && b.Mode() == modeIPTables {
		return fmt.Errorf("a kube-proxy (pid %d) runs in this network namespace and owns the KUBE-* chains that iptables mode writes: stop it, or use --proxy-mode=nftables (its own table, ip nodeagent), or --disable-proxy", pid)
	}
	if err := cleanupOtherModes(ctx, log, b.Mode()); err != nil {
		log.Warn("leftovers of another proxy mode not removed", "err", err)
	}
	if err := proxy.EnsureSysctls(); err != nil {
		log.Warn("proxy sysctls", "err", err)
	}
	obs, err := startProxyEndpoints(ctx, log, o, b)
	if err != nil {
		return err
	}
	p, err := proxy.New(client, b, proxy.Options{NodeName: nodeName, NodeIPs: o.nodeIPs, Runner: o.runner,
		IgnoreInterfaces: []string{ipvs.LinkName}, Conntrack: proxy.ConntrackTool{}, Observer: obs, Clock: clock.RealClock{}}, log)
	if err != nil {
		return err
	}
	go fullSyncOnHangup(ctx, p.Runner)
	log.Info("service proxy starting", "mode", b.Mode(), "node", nodeName, "cluster-cidr", o.cfg.ClusterCIDR.String())
	return p.Run(ctx)
}

// startProxyEndpoints makes the proxy's metrics (in a registry of its own)
// and health server, starts their listeners, and returns them as the
// proxy's observer. Health fails once a change waits twice the full-sync
// interval, as kube-proxy's with its sync period.
func startProxyEndpoints(ctx context.Context, log *slog.Logger, o *proxyOptions, b proxy.Backend) (proxy.Observer, error) {
	reg := newRegistry()
	counter, _ := b.(proxy.RuleCounter)
	m, err := proxymetrics.New(reg, b.Mode(), counter, clock.RealClock{})
	if err != nil {
		return nil, err
	}
	hs, err := healthcheck.New(2*o.runner.FullSyncInterval, reg, clock.RealClock{})
	if err != nil {
		return nil, err
	}
	if o.healthzBindAddress != "" {
		go serveHTTP(ctx, log, "proxy healthz", o.healthzBindAddress, hs.Handler())
	}
	if o.metricsBindAddress != "" {
		go serveHTTP(ctx, log, "proxy metrics", o.metricsBindAddress, proxymetrics.Handler(reg, b.Mode()))
	}
	// Health check node ports of LoadBalancers with externalTrafficPolicy Local.
	sh := svchealth.New(svchealth.ListenAll, hs.Healthy, log.With("component", "svchealth"))
	go sh.Run(ctx)
	if o.onFirstSync != nil {
		return proxy.Observers{m, hs, sh, &firstSync{done: o.onFirstSync}}, nil
	}
	return proxy.Observers{m, hs, sh}, nil
}

func fullSyncOnHangup(ctx context.Context, r *proxy.Runner) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.RequestFullSync()
		}
	}
}

// newBackend builds the backend of o.mode; auto falls back from ipvs to
// nftables to iptables, saying why.
func newBackend(ctx context.Context, log *slog.Logger, o *proxyOptions) (proxy.Backend, error) {
	switch o.mode {
	case modeIPTables:
		return iptables.New(o.cfg, iptables.NewRunner(), log), nil
	case modeNFTables:
		return newNFTables(o, log)
	case modeIPVS:
		return newIPVS(ctx, o, log)
	case modeAuto:
		return autoBackend(ctx, log, o)
	}
	return nil, fmt.Errorf("unknown --proxy-mode %q: use iptables, nftables, ipvs or auto", o.mode)
}

func newNFTables(o *proxyOptions, log *slog.Logger) (proxy.Backend, error) {
	nft, err := nftables.NewInterface()
	if err != nil {
		return nil, err
	}
	return nftables.New(o.cfg, nft, log), nil
}

func newIPVS(ctx context.Context, o *proxyOptions, log *slog.Logger) (proxy.Backend, error) {
	cfg := ipvs.DefaultConfig()
	cfg.Config, cfg.Scheduler, cfg.NoMasqueradeBit = o.cfg, o.ipvsScheduler, o.ipvsNoMasqBit
	return ipvs.NewReal(ctx, cfg, log)
}

func autoBackend(ctx context.Context, log *slog.Logger, o *proxyOptions) (proxy.Backend, error) {
	b, err := newIPVS(ctx, o, log)
	if err == nil {
		return b, nil
	}
	if !ipvs.IsNotSupported(err) {
		return nil, err
	}
	log.Warn("proxy-mode auto: IPVS is not available, trying nftables", "reason", err)
	if b, err = newNFTables(o, log); err == nil {
		return b, nil
	}
	log.Warn("proxy-mode auto: nftables is not available, using iptables", "reason", err)
	return iptables.New(o.cfg, iptables.NewRunner(), log), nil
}

// cleanupOtherModes removes what every mode but keep made ("" keeps none).
func cleanupOtherModes(ctx context.Context, log *slog.Logger, keep string) error {
	var errs []error
	cfg := proxy.DefaultConfig()
	if pid, ok := proxy.KubeProxyHere("/proc"); ok && keep != modeIPTables {
		log.Warn("a kube-proxy runs in this network namespace: its KUBE-* chains are left alone", "pid", pid)
	} else if keep != modeIPTables {
		errs = append(errs, iptables.New(cfg, iptables.NewRunner(), log).Cleanup(ctx))
	}
	if keep != modeNFTables {
		if nft, err := nftables.NewInterface(); err != nil {
			log.Debug("no nft: nothing of nftables mode to remove", "reason", err)
		} else {
			errs = append(errs, nftables.New(cfg, nft, log).Cleanup(ctx))
		}
	}
	if keep != modeIPVS {
		errs = append(errs, ipvs.CleanupLeftovers(ctx, "", log))
	}
	return errors.Join(errs...)
}

// cleanupProxy is `nodeagent proxy --cleanup`.
func cleanupProxy(ctx context.Context, log *slog.Logger, _ string) error {
	if err := cleanupOtherModes(ctx, log, ""); err != nil {
		return fmt.Errorf("proxy cleanup: %w", err)
	}
	log.Info("removed every rule, chain, table and virtual server of every proxy mode")
	return nil
}

// clientFor is a client with the credentials of a kubeconfig file.
func clientFor(kubeconfig string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}
