package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/agent"
	"github.com/nodeagent/nodeagent/apiserver"
	"github.com/nodeagent/nodeagent/certs"
	"github.com/nodeagent/nodeagent/controllers/endpointslice"
	"github.com/nodeagent/nodeagent/controllers/namespace"
	"github.com/nodeagent/nodeagent/controllers/nodeipam"
	"github.com/nodeagent/nodeagent/controllers/nodelifecycle"
	"github.com/nodeagent/nodeagent/controllers/scheduler"
	"github.com/nodeagent/nodeagent/internal/kubecache"
)

// serverFlags maps flags onto apiserver.Config.
func serverFlags(fs *flag.FlagSet, cfg *apiserver.Config) {
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "state directory: embedded etcd, PKI, admin kubeconfig")
	fs.Func("etcd-servers", "comma-separated external etcd endpoints (default: embedded etcd)", func(v string) error {
		cfg.EtcdServers = strings.Split(v, ",")
		return nil
	})
	fs.StringVar(&cfg.EtcdTLS.CAFile, "etcd-cafile", "", "CA file that signs the --etcd-servers serving certificates")
	fs.StringVar(&cfg.EtcdTLS.CertFile, "etcd-certfile", "", "client certificate for --etcd-servers")
	fs.StringVar(&cfg.EtcdTLS.KeyFile, "etcd-keyfile", "", "key of --etcd-certfile")
	fs.StringVar(&cfg.BindAddress, "bind-address", cfg.BindAddress, "address to serve HTTPS on")
	fs.IntVar(&cfg.Port, "secure-port", cfg.Port, "HTTPS port")
	fs.StringVar(&cfg.AdvertiseAddress, "advertise-address", cfg.AdvertiseAddress, "address given to clients (default: first non-loopback address)")
	fs.Func("tls-san", "extra names or IPs for the serving certificate, comma-separated (repeatable)", func(v string) error {
		cfg.ExtraSANs = append(cfg.ExtraSANs, strings.Split(v, ",")...)
		return nil
	})
	fs.StringVar(&cfg.TokenFile, "token-auth-file", cfg.TokenFile, "static token file: token,user,uid,\"group1,group2\"")
	fs.StringVar(&cfg.KubeletCertificateAuthority, "kubelet-certificate-authority", cfg.KubeletCertificateAuthority, "PEM file of the CAs that sign agents' serving certificates (default: the cluster CA)")
	fs.DurationVar(&cfg.CompactionInterval, "etcd-compaction-interval", cfg.CompactionInterval, "how often etcd history is compacted")
	fs.DurationVar(&cfg.EventTTL, "event-ttl", cfg.EventTTL, "how long Events are kept after their last write")
	fs.BoolFunc("watch-cache", "serve lists and watches from a cache of each resource fed by one etcd watch (default true; false: every read goes to etcd)", func(v string) error {
		on, err := strconv.ParseBool(v)
		cfg.NoWatchCache = !on
		return err
	})
	fs.BoolVar(&cfg.Profiling, "profiling", cfg.Profiling, "serve Go's profiles under /debug/pprof/ to users authorized for those paths (system:masters, cluster-admin)")
	fs.StringVar(&cfg.ServiceClusterIPRange, "service-cluster-ip-range", cfg.ServiceClusterIPRange, "CIDR of Service cluster IPs; its first IP is the kubernetes Service's")
	fs.StringVar(&cfg.ServiceNodePortRange, "service-node-port-range", cfg.ServiceNodePortRange, "node port range FROM-TO (inclusive)")
	fs.StringVar(&cfg.ServiceAccountIssuer, "service-account-issuer", cfg.ServiceAccountIssuer, "iss of the service account tokens the server signs (an https URL)")
	fs.Func("api-audiences", "comma-separated audiences a token must name to be accepted by the API (default: the issuer)", func(v string) error {
		cfg.APIAudiences = strings.Split(v, ",")
		return nil
	})
}

func runServer(ctx context.Context, env *environment, args []string) error {
	cfg := apiserver.DefaultConfig()
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	serverFlags(fs, &cfg)
	gco := serverGCFlags(fs)
	sel := controllerFlags(fs)
	nodeMask := fs.Int("node-cidr-mask-size", 24, "prefix length of the pod range the server gives each Node without one, from --cluster-cidr (kube-controller-manager's flag)")
	ao := defaultAgentOptions()
	agentFlags(fs, ao)
	noAgent := fs.Bool("disable-agent", false, "run only the API server and controllers, no agent for this node")
	var dnsO dnsOptions
	dnsFlags(fs, &dnsO)
	fs.BoolVar(&dnsO.disabled, "disable-dns", false, "do not run the cluster DNS (kube-system/kube-dns)")
	if err := env.parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if !*noAgent {
		if err := ao.validate(); err != nil {
			return err
		}
	}
	env.startReadiness(ctx, serverParts(*noAgent, ao)...)
	srv, err := apiserver.New(ctx, cfg, env.log)
	if err != nil {
		return err
	}
	defer srv.Close()
	l, err := srv.Listen()
	if err != nil {
		return err
	}
	ipam := nodeipam.Config{ClusterCIDR: ao.proxy.cfg.ClusterCIDR, NodeMaskSize: *nodeMask}
	if p, err := netip.ParsePrefix(ao.cfg.PodCIDR); err == nil && !*noAgent {
		ipam.Reserved = []netip.Prefix{p}
	}
	if err := startControllers(ctx, srv, env, gco, sel, ipam); err != nil {
		return err
	}
	if !dnsO.disabled {
		startServerDNS(ctx, env, srv, dnsO, cfg, ao)
	}
	if !*noAgent {
		if err := startEmbeddedAgent(ctx, env, srv, ao); err != nil {
			return err
		}
	}
	env.log.Info("API server ready", "url", srv.URL(), "admin-kubeconfig", srv.AdminKubeconfig())
	fmt.Fprintf(env.stderr, "\nnodeagent API server at %s\n  export KUBECONFIG=%s\n  kubectl get nodes\n\n", srv.URL(), srv.AdminKubeconfig())
	env.ready.markReady("api")
	go printJoinCommand(ctx, env, srv)
	return srv.Serve(ctx, l)
}

// serverParts are what must be ready before `nodeagent server` is: the
// API, and the embedded agent's parts.
func serverParts(noAgent bool, ao *agentOptions) []string {
	if noAgent {
		return []string{"api"}
	}
	return append([]string{"api"}, agentParts(ao)...)
}

// runKubeconfig mints credentials: `nodeagent kubeconfig node NAME`, or
// `nodeagent kubeconfig kube-proxy` for an agent's --proxy-kubeconfig.
func runKubeconfig(_ context.Context, env *environment, args []string) error {
	fs := flag.NewFlagSet("kubeconfig", flag.ContinueOnError)
	dataDir := fs.String("data-dir", apiserver.DefaultConfig().DataDir, "the server's state directory (holds the CA)")
	server := fs.String("server", "https://127.0.0.1:6443", "API server URL to put in the kubeconfig")
	out := fs.String("out", "", "write here (mode 0600) instead of stdout")
	servingOut := fs.String("serving-cert-out", "", "also write the agent's serving certificate and key here (kubelet.crt, kubelet.key) for --tls-cert-file")
	nodeIPs := fs.String("node-ip", "", "the node's IP addresses, comma-separated, for --serving-cert-out")
	if len(args) >= 1 && args[0] == "kube-proxy" {
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		data, err := apiserver.ProxyKubeconfig(*dataDir, *server)
		if err != nil {
			return err
		}
		return writeKubeconfigOut(env, *out, data)
	}
	if len(args) < 2 || args[0] != "node" {
		return fmt.Errorf("usage: nodeagent kubeconfig node NAME [--data-dir DIR] [--server URL] [--out FILE] [--serving-cert-out DIR --node-ip IP[,IP]]\n       nodeagent kubeconfig kube-proxy [--data-dir DIR] [--server URL] [--out FILE]")
	}
	name := args[1]
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	data, err := apiserver.NodeKubeconfig(*dataDir, *server, name)
	if err != nil {
		return err
	}
	if *servingOut != "" {
		if err := writeServingCert(env, *dataDir, *servingOut, name, *nodeIPs); err != nil {
			return err
		}
	}
	return writeKubeconfigOut(env, *out, data)
}

// writeKubeconfigOut writes a minted kubeconfig to out (mode 0600), or to
// stdout when out is empty.
func writeKubeconfigOut(env *environment, out string, data []byte) error {
	if out == "" {
		_, err := env.stdout.Write(data)
		return err
	}
	return os.WriteFile(out, data, 0o600)
}

// writeServingCert is `kubeconfig node NAME --serving-cert-out DIR`.
func writeServingCert(env *environment, dataDir, dir, name, nodeIPs string) error {
	var ips []net.IP
	for _, v := range strings.Split(nodeIPs, ",") {
		ip := net.ParseIP(strings.TrimSpace(v))
		if ip == nil {
			return fmt.Errorf("--serving-cert-out needs --node-ip with the node's addresses, got %q", nodeIPs)
		}
		ips = append(ips, ip)
	}
	certFile, keyFile, err := apiserver.NodeServingCert(dataDir, dir, name, ips)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "serving certificate for node %s: --tls-cert-file %s --tls-private-key-file %s\n", name, certFile, keyFile)
	return nil
}

// startControllers runs the bundled controllers against the server.
func startControllers(ctx context.Context, srv *apiserver.Server, env *environment, gco *gcOptions, sel *controllerSelection, ipam nodeipam.Config) error {
	cfg, err := srv.LoopbackConfig()
	if err != nil {
		return err
	}
	ctrlCfg, schedCfg := controllerRates(cfg)
	client, err := kubernetes.NewForConfig(ctrlCfg)
	if err != nil {
		return err
	}
	schedClient, err := kubernetes.NewForConfig(schedCfg)
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, kubecache.Trimmed())
	if err := sharePods(factory, srv); err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(ctrlCfg)
	if err != nil {
		return err
	}
	set := &controllerSet{sel: sel}
	set.add("namespace-controller", func() func(context.Context) {
		return namespace.New(client, dyn, factory, env.log.With("controller", "namespace")).Run
	})
	set.add("scheduler", func() func(context.Context) {
		return scheduler.New(schedClient, factory, env.log.With("controller", "scheduler"), clock.RealClock{}, scheduler.Config{}).Run
	})
	set.add("node-lifecycle-controller", func() func(context.Context) {
		return nodelifecycle.New(client, factory, env.log.With("controller", "nodelifecycle"), clock.RealClock{}, nodelifecycle.Config{}).Run
	})
	set.addErr("node-ipam-controller", func() (func(context.Context), error) {
		c, err := nodeipam.New(client, factory, nodeEventRecorder(ctx, client), env.log.With("controller", "nodeipam"), clock.RealClock{}, ipam)
		if err != nil {
			return nil, err
		}
		return c.Run, nil
	})
	set.add("endpointslice-controller", func() func(context.Context) {
		return endpointslice.New(client, factory, env.log.With("controller", "endpointslice"), clock.RealClock{}, endpointslice.Config{}).Run
	})
	startVolumeControllers(ctx, set, client, factory, cfg.TLSClientConfig.CAData, env)
	startWorkloadControllers(ctx, set, client, factory, env)
	startSetControllers(ctx, set, client, factory, env)
	startBatchControllers(ctx, set, client, factory, env)
	gcControllers(ctx, set, ctrlCfg, client, factory, env, gco)
	endpointsControllers(set, client, factory, env)
	certificateControllers(set, client, factory, srv.CA(), sel.signingDuration, env)
	if set.err != nil {
		return set.err
	}
	env.log.Info("controllers", "running", strings.Join(set.started, ","))
	factory.Start(ctx.Done())
	for _, run := range set.runs {
		go run(ctx)
	}
	return nil
}

// sharePods makes the factory's pod informer, which every controller
// reading pods uses, hold the watch cache's own pods (apiserver.SharedPods)
// rather than a decoded copy of each: at 10,000 pods that copy is ~40 MB.
// The informer runs no transform (the factory's would modify the cache's
// objects), so its pods keep their managedFields, as the cache does.
func sharePods(factory informers.SharedInformerFactory, srv *apiserver.Server) error {
	inf := factory.InformerFor(&corev1.Pod{}, func(kubernetes.Interface, time.Duration) cache.SharedIndexInformer {
		return cache.NewSharedIndexInformer(srv.SharedPods(), &corev1.Pod{}, 0,
			cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	})
	if err := inf.SetTransform(nil); err != nil {
		return fmt.Errorf("pod informer: %w", err)
	}
	if factory.Core().V1().Pods().Informer().GetIndexer() != inf.GetIndexer() {
		return errors.New("pod informer: the factory did not keep the shared one")
	}
	return nil
}

// controllerRates are the controllers' and the scheduler's client configs
// with kube's default request rates: kube-controller-manager's 20 QPS
// (burst 30) and kube-scheduler's 50 (burst 100). client-go's own 5 (burst
// 10) let the scheduler bind 2.5 pods a second (a bind and an event each).
func controllerRates(cfg *rest.Config) (ctrl, sched *rest.Config) {
	ctrl, sched = rest.CopyConfig(cfg), rest.CopyConfig(cfg)
	ctrl.QPS, ctrl.Burst = 20, 30
	sched.QPS, sched.Burst = 50, 100
	return ctrl, sched
}

// startEmbeddedAgent runs this node's agent in the server process, with a
// node identity (system:node:<name>), not the admin one, and a serving
// certificate from the cluster CA for its name and address.
func startEmbeddedAgent(ctx context.Context, env *environment, srv *apiserver.Server, o *agentOptions) error {
	kc, err := srv.NodeKubeconfig(o.cfg.NodeName)
	if err != nil {
		return err
	}
	if o.cfg.TLSCertFile == "" {
		ip := net.ParseIP(agent.NodeIP(o.cfg))
		if o.cfg.TLSCertFile, o.cfg.TLSPrivateKeyFile, err = srv.NodeServingCert(o.cfg.NodeName, []net.IP{ip}); err != nil {
			return err
		}
	}
	restCfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		return err
	}
	o.cfg.ProtectedPaths = append(o.cfg.ProtectedPaths, srv.DataDir())
	if o.proxyKubeconfig == "" {
		if o.proxyKubeconfig, err = embeddedProxyKubeconfig(srv); err != nil {
			return err
		}
	}
	go func() {
		if err := startAgent(ctx, env, o, restCfg); err != nil && ctx.Err() == nil {
			env.log.Error("agent stopped", "err", err)
		}
	}()
	return nil
}

// embeddedProxyKubeconfig mints the embedded agent's proxy credentials
// (system:kube-proxy) into the server's pki directory, readable by root
// alone, and returns the file's path.
func embeddedProxyKubeconfig(srv *apiserver.Server) (string, error) {
	data, err := apiserver.ProxyKubeconfig(srv.DataDir(), srv.URL())
	if err != nil {
		return "", err
	}
	path := filepath.Join(srv.DataDir(), "pki", "kube-proxy.kubeconfig")
	return path, certs.WriteKubeconfig(path, data)
}

// startServerDNS runs the cluster DNS in the server, at the node's address
// (the embedded agent's), for the agent's --cluster-dns and
// --cluster-domain. A DNS that cannot start is logged; the API goes on.
func startServerDNS(ctx context.Context, env *environment, srv *apiserver.Server, o dnsOptions, cfg apiserver.Config, ao *agentOptions) {
	log := env.log.With("component", "dns")
	restCfg, err := srv.LoopbackConfig()
	if err == nil {
		var client kubernetes.Interface
		if client, err = kubernetes.NewForConfig(restCfg); err == nil {
			err = startClusterDNS(ctx, log, client, o, dnsParams{domain: ao.cfg.ClusterDomain, serviceIP: ao.cfg.ClusterDNS,
				serverIP: dnsServerIP(ao), clusterCIDR: ao.proxy.cfg.ClusterCIDR, serviceRange: cfg.ServiceClusterIPRange})
		}
	}
	if err != nil {
		log.Error("cluster DNS not started: pods' ClusterFirst names will not resolve", "err", err)
	}
}

// dnsServerIP is where the server's DNS answers by default: the node's
// address, or, on a node with only loopback (a lab node), the pod
// network's gateway (the first address of --pod-cidr), which the pods
// reach.
func dnsServerIP(ao *agentOptions) string {
	ip, err := netip.ParseAddr(agent.NodeIP(ao.cfg))
	if err == nil && !ip.IsLoopback() {
		return ip.String()
	}
	if p, err := netip.ParsePrefix(ao.cfg.PodCIDR); err == nil {
		return p.Masked().Addr().Next().String()
	}
	return agent.NodeIP(ao.cfg)
}
