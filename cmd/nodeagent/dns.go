package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/nodeagent/nodeagent/clusterdns"
	"github.com/nodeagent/nodeagent/internal/kubecache"
)

// dnsOptions are the cluster DNS server's flags, in `nodeagent server` and
// `nodeagent dns`.
type dnsOptions struct {
	disabled   bool
	bindIP     string         // the address it answers on, port 53
	allow      []netip.Prefix // client networks beyond pods, nodes and loopback
	resolvConf string         // the upstream resolvers
}

func dnsFlags(fs *flag.FlagSet, o *dnsOptions) {
	fs.StringVar(&o.bindIP, "dns-bind-address", "", "address the cluster DNS answers on, port 53 (default: the node's address; the kube-dns Service's endpoint)")
	fs.Func("dns-allow-cidrs", "comma-separated client networks the cluster DNS also answers (always: the pods' --cluster-cidr, its own address, loopback)", func(v string) error {
		ps, err := parsePrefixes(v)
		o.allow = ps
		return err
	})
	fs.StringVar(&o.resolvConf, "dns-resolv-conf", "/etc/resolv.conf", "resolv.conf whose nameservers get the names outside the cluster domain")
}

// dnsParams are what the DNS server takes from the rest of the command.
type dnsParams struct {
	domain       string
	serviceIP    string // the kube-dns Service's ClusterIP ("": not published)
	serverIP     string // default bind address
	clusterCIDR  netip.Prefix
	serviceRange string
}

// startClusterDNS answers on bindIP:53 and, with a serviceIP, keeps the
// kube-dns Service pointing there. It returns once it answers.
func startClusterDNS(ctx context.Context, log *slog.Logger, client kubernetes.Interface, o dnsOptions, p dnsParams) error {
	ip, cfg, err := dnsConfig(o, p)
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, kubecache.Trimmed())
	records, err := clusterdns.NewRecords(factory)
	if err != nil {
		return err
	}
	upstreams, err := clusterdns.ResolvConfUpstreams(o.resolvConf, []netip.Addr{ip})
	if err != nil {
		log.Warn("no upstream resolvers: names outside the cluster domain will fail", "err", err)
	}
	srv, err := clusterdns.New(cfg, records, upstreams, log)
	if err != nil {
		return fmt.Errorf("cluster DNS: %w", err)
	}
	factory.Start(ctx.Done())
	if err := srv.ListenAndServe(ctx, net.JoinHostPort(ip.String(), "53")); err != nil {
		return err
	}
	go func() {
		if !cache.WaitForCacheSync(ctx.Done(), records.HasSynced) {
			return
		}
		if p.serviceIP != "" {
			pub := clusterdns.Publication{ServiceIP: netip.MustParseAddr(p.serviceIP), ServerIP: ip}
			clusterdns.KeepPublished(ctx, client, pub, time.Minute, log)
		}
	}()
	return nil
}

// dnsConfig is the server's address and configuration from the flags.
func dnsConfig(o dnsOptions, p dnsParams) (netip.Addr, clusterdns.Config, error) {
	bind := o.bindIP
	if bind == "" {
		bind = p.serverIP
	}
	ip, err := netip.ParseAddr(bind)
	if err != nil {
		return netip.Addr{}, clusterdns.Config{}, fmt.Errorf("--dns-bind-address: %q is not an IP address", bind)
	}
	if p.serviceIP != "" {
		if _, err := netip.ParseAddr(p.serviceIP); err != nil {
			return netip.Addr{}, clusterdns.Config{}, fmt.Errorf("--cluster-dns: %q is not an IP address", p.serviceIP)
		}
	}
	own := netip.PrefixFrom(ip, ip.BitLen())
	allow := append([]netip.Prefix{p.clusterCIDR, own, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, o.allow...)
	ranges := []netip.Prefix{p.clusterCIDR}
	if r, err := netip.ParsePrefix(p.serviceRange); err == nil {
		ranges = append(ranges, r)
	}
	return ip, clusterdns.Config{Domain: p.domain, Allowed: allow, ClusterRanges: ranges}, nil
}

func parsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// runDNS is `nodeagent dns`: the cluster DNS alone, against an API server.
func runDNS(ctx context.Context, env *environment, args []string) error {
	var o dnsOptions
	fs := flag.NewFlagSet("dns", flag.ContinueOnError)
	dnsFlags(fs, &o)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of an identity that may list and watch Services and EndpointSlices (and, with --cluster-dns, write kube-system/kube-dns)")
	p := dnsParams{domain: "cluster.local", clusterCIDR: netip.MustParsePrefix("10.244.0.0/16"), serviceRange: "10.96.0.0/12"}
	fs.StringVar(&p.serviceIP, "cluster-dns", "", "ClusterIP of the kube-dns Service to keep pointing at this server (default: publish nothing)")
	fs.StringVar(&p.domain, "cluster-domain", p.domain, "cluster DNS domain")
	fs.StringVar(&p.serviceRange, "service-cluster-ip-range", p.serviceRange, "the Services' range (reverse names there are answered here)")
	fs.Func("cluster-cidr", "the pods' range: its clients are answered (default 10.244.0.0/16)", func(v string) error {
		pr, err := netip.ParsePrefix(v)
		p.clusterCIDR = pr.Masked()
		return err
	})
	if err := env.parseFlags(fs, args); err != nil {
		return err
	}
	if *kubeconfig == "" || o.bindIP == "" {
		return errors.New("--kubeconfig and --dns-bind-address are required")
	}
	client, err := clientFor(*kubeconfig)
	if err != nil {
		return err
	}
	env.startReadiness(ctx, "dns")
	if err := startClusterDNS(ctx, env.log.With("component", "dns"), client, o, p); err != nil {
		return err
	}
	env.ready.markReady("dns")
	<-ctx.Done()
	return nil
}
