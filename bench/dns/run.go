package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nodeagent/nodeagent/bench/internal/proc"
	"github.com/nodeagent/nodeagent/lab"
)

// lab is the bench's network namespace and temporary directory.
type benchLab struct {
	node *lab.Node
	dir  string
	bin  string
}

// run measures nodeagent's DNS and, with cfg.CoreDNS, CoreDNS's.
func run(ctx context.Context, cfg config, progress io.Writer) (rs []results, err error) {
	b, err := upLab(cfg.Bin)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, b.down()) }()
	server, restCfg, err := b.startServer(ctx)
	if err != nil {
		return nil, err
	}
	defer server.Stop(20 * time.Second)
	fmt.Fprintf(progress, "creating %d Services\n", cfg.Services)
	names, err := createServices(ctx, restCfg, cfg.Services)
	if err != nil {
		return nil, err
	}
	rs = append(rs, b.measure(ctx, cfg, progress, "nodeagent", "127.0.0.1:53", server, names))
	if cfg.CoreDNS != "" {
		core, err := b.startCoreDNS(cfg.CoreDNS)
		if err != nil {
			rs = append(rs, results{name: "CoreDNS", failed: err})
			return rs, nil
		}
		defer core.Stop(20 * time.Second)
		rs = append(rs, b.measure(ctx, cfg, progress, "CoreDNS ("+filepath.Base(cfg.CoreDNS)+")", "127.0.0.1:1053", core, names))
	}
	return rs, nil
}

// measure waits until addr answers the last Service, then loads it.
func (b *benchLab) measure(ctx context.Context, cfg config, progress io.Writer, name, addr string, p *proc.Process, names []string) results {
	r := results{name: name}
	last := names[len(names)-1]
	if r.failed = b.waitAnswers(ctx, addr, last, p); r.failed != nil {
		return r
	}
	fmt.Fprintf(progress, "loading %s for %v\n", name, cfg.Duration)
	r.load, r.failed = load(ctx, b.node.DialContext, addr, names, cfg.Clients, cfg.Duration)
	r.rss, _ = p.RSS()
	return r
}

// waitAnswers polls addr for name until it has an A record.
func (b *benchLab) waitAnswers(ctx context.Context, addr, name string, p *proc.Process) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var last error
	for {
		m, err := query(ctx, b.node.DialContext, addr, name)
		if err == nil && len(m.Answer) == 1 {
			return nil
		}
		last = fmt.Errorf("%v %v", m, err)
		select {
		case <-p.Exited():
			return fmt.Errorf("the server exited: %v", last)
		case <-ctx.Done():
			return fmt.Errorf("%s not answered within 60s: %v", name, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func query(ctx context.Context, dial dialFunc, addr, name string) (*dns.Msg, error) {
	conn, err := dial(ctx, "udp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	m, _, err := (&dns.Client{Timeout: 2 * time.Second}).ExchangeWithConnContext(ctx, new(dns.Msg).SetQuestion(name, dns.TypeA), &dns.Conn{Conn: conn})
	return m, err
}

func upLab(bin string) (*benchLab, error) {
	id := make([]byte, 4)
	rand.Read(id)
	dir, err := os.MkdirTemp("", "nodeagent-dns-bench-")
	if err != nil {
		return nil, err
	}
	n, err := lab.Up(lab.DefaultConfig("bench-dns-" + hex.EncodeToString(id)))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lab up: %w", err)
	}
	return &benchLab{node: n, dir: dir, bin: bin}, nil
}

func (b *benchLab) down() error {
	if err := b.node.Down(); err != nil {
		return fmt.Errorf("lab down (logs kept in %s): %w", b.dir, err)
	}
	return os.RemoveAll(b.dir)
}

// start runs a command in the lab, logging to dir/name.log.
func (b *benchLab) start(name string, bin string, args ...string) (*proc.Process, error) {
	f, err := os.Create(filepath.Join(b.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := b.node.Start(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return proc.Watch(cmd), nil
}

// startServer runs the API server (and its DNS on 127.0.0.1:53) in the lab.
func (b *benchLab) startServer(ctx context.Context) (*proc.Process, *rest.Config, error) {
	data := filepath.Join(b.dir, "server")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, nil, err
	}
	p, err := b.start("server", b.bin, "server", "--disable-agent", "--data-dir", data,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--dns-bind-address", "127.0.0.1")
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(data, "admin.kubeconfig"))
		if err == nil {
			cfg.Dial = b.node.DialContext
			cfg.QPS, cfg.Burst = 500, 1000
			var client *kubernetes.Clientset
			if client, err = kubernetes.NewForConfig(cfg); err == nil {
				if _, err = client.Discovery().ServerVersion(); err == nil {
					return p, cfg, nil
				}
			}
		}
		select {
		case <-p.Exited():
			p.Stop(time.Second)
			return nil, nil, fmt.Errorf("server exited: %v", err)
		case <-ctx.Done():
			p.Stop(20 * time.Second)
			return nil, nil, fmt.Errorf("server not ready in 60s: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// createServices makes n ClusterIP Services (16 at a time) and returns
// their names.
func createServices(ctx context.Context, cfg *rest.Config, n int) ([]string, error) {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	names := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		names[i] = fmt.Sprintf("svc-%d.default.svc.cluster.local.", i)
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("svc-%d", i)},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
			_, errs[i] = client.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{})
		}(i)
	}
	wg.Wait()
	return names, errors.Join(errs...)
}

// corefile is kubeadm's default Corefile for CoreDNS, on 127.0.0.1:1053,
// without its health, ready, metrics and forward plugins (no ports beyond
// DNS, no names outside the cluster are asked).
const corefile = `.:1053 {
    bind 127.0.0.1
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       kubeconfig %s
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    cache 30
    loop
    loadbalance
}
`

func (b *benchLab) startCoreDNS(bin string) (*proc.Process, error) {
	conf := filepath.Join(b.dir, "Corefile")
	kc := filepath.Join(b.dir, "server", "admin.kubeconfig")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(corefile, kc)), 0o600); err != nil {
		return nil, err
	}
	return b.start("coredns", bin, "-conf", conf)
}
