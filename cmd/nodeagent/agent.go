package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/agent"
	"github.com/nodeagent/nodeagent/agent/certificate"
	agentmetrics "github.com/nodeagent/nodeagent/agent/metrics"
	"github.com/nodeagent/nodeagent/agent/shutdown"
	crictr "github.com/nodeagent/nodeagent/cri/containerd"
	"github.com/nodeagent/nodeagent/cri/crilogger"
	"github.com/nodeagent/nodeagent/cri/pause"
)

// agentOptions are the agent's flags: its config and the runtime's.
type agentOptions struct {
	cfg          agent.Config
	runtime      crictr.Config
	kubeconfig   string
	clientCAFile string
	// proxyKubeconfig holds the embedded proxy's own credentials
	// (empty: the node's).
	proxyKubeconfig string
	proxy           *proxyOptions
	// nodeRoutes: "host-gw" routes the other nodes' pod ranges through
	// their InternalIPs; "vxlan" through a VXLAN device; "none" leaves
	// routing to the CNI network.
	nodeRoutes string
	// podMasquerade: masquerade what pods send out of --cluster-cidr
	// (podmasq), as the default CNI network does not.
	podMasquerade bool
	certs         certOptions // TLS bootstrapping and rotation (agent_certs.go)
	helpers       helperOptions
	exe           string // this executable, beside which the helpers are looked for
}

func defaultAgentOptions() *agentOptions {
	cfg := agent.DefaultConfig()
	host, _ := os.Hostname()
	cfg.NodeName = strings.ToLower(host) // as kubelet: node names are DNS subdomains
	exe, _ := os.Executable()
	return &agentOptions{cfg: cfg, runtime: crictr.DefaultConfig(), proxy: defaultProxyOptions(), nodeRoutes: "host-gw", podMasquerade: true, exe: exe}
}

// agentFlags maps flags onto the agent's and the runtime's config.
func agentFlags(fs *flag.FlagSet, o *agentOptions) {
	c := &o.cfg
	fs.StringVar(&c.NodeName, "node-name", c.NodeName, "this node's name")
	fs.StringVar(&c.NodeIP, "node-ip", c.NodeIP, "this node's InternalIP (default: first non-loopback IPv4)")
	fs.StringVar(&c.PodCIDR, "pod-cidr", c.PodCIDR, "pod range for the default CNI network (empty: the Node's spec.podCIDR, which the server's node IPAM gives)")
	fs.StringVar(&c.ClusterDNS, "cluster-dns", c.ClusterDNS, "nameserver for ClusterFirst pods")
	fs.StringVar(&c.ClusterDomain, "cluster-domain", c.ClusterDomain, "cluster DNS domain")
	fs.StringVar(&c.RootDir, "root-dir", c.RootDir, "agent state: pod directories, volumes")
	fs.StringVar(&c.PodLogDir, "pod-log-dir", c.PodLogDir, "container logs")
	fs.StringVar(&c.NetNSDir, "netns-dir", c.NetNSDir, "where pod network namespaces are pinned")
	fs.StringVar(&c.NetNSPrefix, "netns-prefix", c.NetNSPrefix, "name prefix of pod network namespaces")
	fs.StringVar(&c.IPAMDir, "cni-ipam-dir", c.IPAMDir, "host-local reservations of the default network")
	fs.StringVar(&c.CNI.ConfDir, "cni-conf-dir", c.CNI.ConfDir, "CNI configuration")
	fs.Func("cni-bin-dir", "CNI plugin directories, comma-separated (default /opt/cni/bin,/usr/lib/cni)", func(v string) error {
		c.CNI.PluginDirs = strings.Split(v, ",")
		return nil
	})
	fs.StringVar(&c.CNI.CacheDir, "cni-cache-dir", c.CNI.CacheDir, "CNI result cache")
	fs.IntVar(&c.Port, "port", c.Port, "HTTPS port of the agent's API (logs)")
	fs.StringVar(&o.clientCAFile, "client-ca-file", "", "CA bundle that verifies client certificates on the agent's API (default: the kubeconfig's CA)")
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", c.TLSCertFile, "serving certificate of the agent's API, issued by the cluster CA for the node's name and IPs (default: self-signed, which the API server refuses)")
	fs.StringVar(&c.TLSPrivateKeyFile, "tls-private-key-file", c.TLSPrivateKeyFile, "key of --tls-cert-file")
	fs.IntVar(&c.HealthzPort, "healthz-port", c.HealthzPort, "plain-HTTP port of /healthz alone, for local checks (0: off)")
	fs.StringVar(&c.HealthzBindAddress, "healthz-bind-address", c.HealthzBindAddress, "address of the healthz port")
	fs.IntVar(&c.MaxPods, "max-pods", c.MaxPods, "pods capacity")
	fs.StringVar(&c.PodManifestPath, "pod-manifest-path", c.PodManifestPath, "directory of static pod manifests (empty: none)")
	fs.DurationVar(&c.RelistPeriod, "pleg-relist-period", c.RelistPeriod, "safety-net relist period")
	gcFlags(fs, c)
	fs.DurationVar(&c.Shutdown.GracePeriod, "shutdown-grace-period", c.Shutdown.GracePeriod,
		"how long a systemd host's shutdown waits for the pods to stop (a logind inhibitor lock; 0: off)")
	fs.DurationVar(&c.Shutdown.GracePeriodCriticalPods, "shutdown-grace-period-critical-pods", c.Shutdown.GracePeriodCriticalPods,
		"the part of --shutdown-grace-period kept for critical pods, stopped last")
	resourceFlags(fs, &c.Resources)
	fs.StringVar(&o.runtime.Address, "containerd", o.runtime.Address, "containerd socket")
	fs.StringVar(&o.runtime.Namespace, "containerd-namespace", o.runtime.Namespace, "containerd namespace for pods")
	helperFlags(fs, &o.helpers)
	proxyFlags(fs, o.proxy)
	proxyServingFlags(fs, o.proxy, "proxy-")
	fs.BoolVar(&o.proxy.disabled, "disable-proxy", false, "do not run the service proxy in the agent")
	fs.StringVar(&o.nodeRoutes, "node-routes", o.nodeRoutes, "host-gw: route the other nodes' pod ranges (spec.podCIDRs) through their InternalIPs, for nodes on one network segment, with --proxy-kubeconfig's identity (it lists Nodes); vxlan: the same through a VXLAN device (nodeagent.1, VNI 1, UDP 8472), for nodes that reach each other through routers; none: the CNI network routes between nodes")
	fs.BoolVar(&o.podMasquerade, "pod-masquerade", o.podMasquerade, "masquerade what pods send out of --cluster-cidr (nftables table inet nodeagent-podmasq); the default CNI network does not masquerade, so pods see each other's addresses across nodes; off for a CNI network that masquerades by itself")
	fs.StringVar(&o.proxyKubeconfig, "proxy-kubeconfig", "", "kubeconfig of the embedded proxy's own identity, as kube-proxy's (system:kube-proxy, whom kube's RBAC binds to system:node-proxier; empty: the node's credentials, which the bundled server grants and kube-apiserver's Node authorizer does not)")
}

func runAgent(ctx context.Context, env *environment, args []string) error {
	o, cleanup, err := parseAgentFlags(env, args)
	if err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	if cleanup {
		return cleanupAgent(ctx, env, o)
	}
	if o.kubeconfig == "" {
		return fmt.Errorf("--kubeconfig is required")
	}
	if err := bootstrapNode(ctx, env.log.With("component", "certificate", "node", o.cfg.NodeName), o); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return err
	}
	env.startReadiness(ctx, agentParts(o)...)
	return startAgent(ctx, env, o, cfg)
}

// parseAgentFlags parses `nodeagent agent`'s arguments, then the config
// file's agent section: the options and whether --cleanup was asked for.
func parseAgentFlags(env *environment, args []string) (*agentOptions, bool, error) {
	o := defaultAgentOptions()
	// As a kubelet: the pod range is the Node's unless --pod-cidr says
	// otherwise. The server's own agent keeps 10.244.0.0/24, which its
	// node IPAM keeps for it.
	o.cfg.PodCIDR = ""
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	agentFlags(fs, o)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig with the node's credentials (written by TLS bootstrapping with --bootstrap-kubeconfig)")
	certFlags(fs, &o.certs)
	cleanup := fs.Bool("cleanup", false, "remove every pod, network attachment, namespace and cgroup this agent's configuration made, then exit")
	if err := env.parseFlags(fs, args); err != nil {
		return nil, false, err
	}
	return o, *cleanup, nil
}

// agentParts are what must be ready before the agent is: its node
// registered and Ready, and its proxy's first sync.
func agentParts(o *agentOptions) []string {
	if o.proxy.disabled {
		return []string{"node"}
	}
	return []string{"node", "proxy"}
}

// validate picks the per-pod helper binaries (helpers.go), then refuses
// what the agent, its runtime or its proxy cannot run with, naming the
// flags, before anything is touched.
func (o *agentOptions) validate() error {
	errs := []error{o.cfg.Validate(), o.helpers.resolve(&o.runtime, o.exe), validNodeRoutes(o.nodeRoutes), o.certs.validate(o.cfg.TLSCertFile)}
	errs = append(errs, o.runtime.Validate())
	if !o.proxy.disabled {
		errs = append(errs, o.proxy.validate())
	}
	return errors.Join(errs...)
}

// startAgent connects to containerd and runs the agent until ctx ends.
func startAgent(ctx context.Context, env *environment, o *agentOptions, restCfg *rest.Config) error {
	restCfg = rest.CopyConfig(restCfg)
	restCfg.QPS, restCfg.Burst = 50, 100 // as kubelet: status updates must not queue
	var err error
	if o.cfg.ClientCA, err = clientCA(o.clientCAFile, restCfg); err != nil {
		return err
	}
	restCfg, rotation, err := rotatingClientConfig(env.log.With("component", "certificate", "node", o.cfg.NodeName), o, restCfg)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	runRotation(ctx, rotation, client, stop)
	rt, err := crictr.New(o.runtime, env.log.With("component", "cri"))
	if err != nil {
		return err
	}
	defer rt.Close()
	log := env.log.With("component", "agent", "node", o.cfg.NodeName)
	for _, w := range o.helpers.warnings {
		log.Warn(w)
	}
	log.Info("per-pod processes", "pause", o.runtime.PauseBinary, "logger", o.runtime.LoggerBinary)
	m, err := agentmetrics.New(agentmetrics.Registries{Metrics: newRegistry(), Probes: prometheus.NewRegistry()},
		o.cfg.NodeName, rt, clock.RealClock{}, log)
	if err != nil {
		return err
	}
	// Tests only: stop volume stages at a step, for a kill -9 there.
	o.cfg.TestHoldVolumeStep = os.Getenv("NODEAGENT_TEST_HOLD_VOLUME_STEP")
	agentRT, err := testGCHooks(&o.cfg, rt)
	if err != nil {
		return err
	}
	opts := []agent.Option{agent.WithMetrics(m)}
	serving, err := servingCertificates(env.log.With("component", "serving-certificate", "node", o.cfg.NodeName), o)
	if err != nil {
		return err
	}
	if serving != nil {
		go serving.Run(ctx, client) // a serving manager's Run ends with ctx only
		opts = append(opts, agent.WithServingCertificate(serving.Current))
	}
	if inh := shutdownInhibitor(o.cfg.Shutdown, log); inh != nil {
		defer inh.Close()
		opts = append(opts, agent.WithShutdownInhibitor(inh))
	}
	a, err := agent.New(o.cfg, client, agentRT, log, opts...)
	if err != nil {
		return err
	}
	env.ready.addCheck("agent", a.Healthy)
	go waitNodeReady(ctx, client, o.cfg.NodeName, env.ready.marker("node"))
	pc, err := proxyClient(ctx, env.log.With("component", "certificate", "node", o.cfg.NodeName), o, client)
	if err != nil {
		return err
	}
	if !o.proxy.disabled {
		o.proxy.onFirstSync = env.ready.marker("proxy")
		go runEmbeddedProxy(ctx, env, o, pc)
	}
	if o.podMasquerade {
		go runPodMasquerade(ctx, env.log.With("component", "podmasq", "node", o.cfg.NodeName), o.proxy.cfg.ClusterCIDR, o.cfg.CNI.ConfDir)
	}
	if o.nodeRoutes != "none" {
		go runNodeRoutes(ctx, env.log.With("component", "noderoutes", "node", o.cfg.NodeName), pc, client, o.nodeRoutes, o.cfg.NodeName)
	}
	err = a.Run(ctx)
	if cause := context.Cause(ctx); errors.Is(cause, certificate.ErrExpired) {
		return cause // agent_certs.go runRotation
	}
	return err
}

// proxyClient is the embedded proxy's client: with --proxy-kubeconfig's
// credentials when one is given, as kube-proxy runs beside kubelet under
// its own identity (a system:kube-proxy certificate is renewed: see
// rotatingProxyConfig); else the node's client.
func proxyClient(ctx context.Context, log *slog.Logger, o *agentOptions, node kubernetes.Interface) (kubernetes.Interface, error) {
	if o.proxyKubeconfig == "" {
		return node, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.proxyKubeconfig)
	if err != nil {
		return nil, fmt.Errorf("--proxy-kubeconfig: %w", err)
	}
	cfg, m, err := rotatingProxyConfig(log, o, cfg)
	if err != nil {
		return nil, fmt.Errorf("--proxy-kubeconfig: %w", err)
	}
	if m != nil {
		go m.Run(ctx, node) // ends with ctx: no StopWhenExpired
	}
	return kubernetes.NewForConfig(cfg)
}

// shutdownInhibitor is logind when graceful node shutdown is asked for and
// the host has it; else nil, and the agent says why.
func shutdownInhibitor(cfg shutdown.Config, log *slog.Logger) *shutdown.Logind {
	if !cfg.Enabled() {
		log.Info("graceful node shutdown off: --shutdown-grace-period is 0")
		return nil
	}
	l, err := shutdown.NewLogind()
	if err != nil {
		log.Warn("graceful node shutdown off: no systemd-logind on the system bus", "err", err)
		return nil
	}
	return l
}

// clientCA is the PEM that verifies client certificates on the agent's
// API: --client-ca-file, else the CA the kubeconfig trusts the server with.
func clientCA(file string, restCfg *rest.Config) ([]byte, error) {
	if file == "" && len(restCfg.TLSClientConfig.CAData) > 0 {
		return restCfg.TLSClientConfig.CAData, nil
	}
	if file == "" {
		file = restCfg.TLSClientConfig.CAFile
	}
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("client CA: %w", err)
	}
	return data, nil
}

// runCRILogger is containerd's logging binary for a container: it writes
// the container's stdout and stderr to a CRI-format log file. The agent
// runs bin/nodeagent-logger instead when it is there (helpers.go).
func runCRILogger(_ context.Context, _ *environment, args []string) error {
	return crilogger.Run(args)
}

// runPause is the pod sandbox's process. The agent runs bin/nodeagent-pause
// instead when it is there (helpers.go).
func runPause(_ context.Context, _ *environment, _ []string) error {
	return pause.Run()
}

// cleanupAgent is `nodeagent agent --cleanup`.
func cleanupAgent(ctx context.Context, env *environment, o *agentOptions) error {
	rt, err := crictr.New(o.runtime, env.log.With("component", "cri"))
	if err != nil {
		return err
	}
	defer rt.Close()
	return errors.Join(agent.Cleanup(ctx, o.cfg, rt, env.log.With("component", "agent")), cleanupNodeRoutes(), cleanupPodMasquerade(ctx))
}

// runEmbeddedProxy runs the service proxy beside the agent; a proxy that
// cannot start is logged and leaves the agent running.
func runEmbeddedProxy(ctx context.Context, env *environment, o *agentOptions, client kubernetes.Interface) {
	log := env.log.With("component", "proxy", "node", o.cfg.NodeName)
	if err := startProxy(ctx, log, o.proxy, client, o.cfg.NodeName); err != nil && ctx.Err() == nil {
		log.Error("service proxy stopped", "err", err)
	}
}
