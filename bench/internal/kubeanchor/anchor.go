// Package kubeanchor runs the benches' anchor: a real kube-apiserver on an
// etcd of its own, both listening on 127.0.0.1 only (the host's, or a lab
// node's when started with the node's Start and DialContext), with a PKI
// of its own, its state in one temporary directory, and everything removed
// by Stop (also when Start fails).
package kubeanchor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/bench/internal/probe"
)

// readyTimeout bounds how long etcd and kube-apiserver together may take
// to become ready (kube-apiserver installs its bootstrap RBAC policy,
// priority levels and the like first).
const readyTimeout = 3 * time.Minute

// Bins are the anchor's programs.
type Bins struct {
	APIServer string // kube-apiserver
	Etcd      string // etcd, the server
}

// Options say where the anchor runs; the zero value is the host.
type Options struct {
	// Start starts a command (nil: exec.Cmd.Start).
	Start func(*exec.Cmd) error
	// Dial connects to the anchor's ports (nil: a plain dialer).
	Dial DialFunc
}

// Anchor is a running kube-apiserver on its etcd.
type Anchor struct {
	dir                         string // removed by Stop
	opts                        Options
	apiPort, etcdPort, etcdPeer int
	etcd, api                   *Child
	// The first lines of --version, for reports.
	APIServerVersion, EtcdVersion string
}

// Start starts etcd, then kube-apiserver on it, and waits until the API is
// ready. On error nothing is left behind.
func Start(ctx context.Context, bins Bins, opts Options) (*Anchor, error) {
	if opts.Start == nil {
		opts.Start = (*exec.Cmd).Start
	}
	dir, err := os.MkdirTemp("", "nodeagent-bench-kube-")
	if err != nil {
		return nil, fmt.Errorf("temp dir for kube-apiserver and etcd: %w", err)
	}
	k := &Anchor{dir: dir, opts: opts, APIServerVersion: Version(ctx, bins.APIServer), EtcdVersion: Version(ctx, bins.Etcd)}
	if err := k.start(ctx, bins); err != nil {
		if serr := k.Stop(); serr != nil {
			err = errors.Join(err, serr)
		}
		return nil, err
	}
	return k, nil
}

func (k *Anchor) start(ctx context.Context, bins Bins) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	ports, err := freeLoopbackPorts(3)
	if err != nil {
		return err
	}
	k.apiPort, k.etcdPort, k.etcdPeer = ports[0], ports[1], ports[2]
	if err := WritePKI(k.PKI(), k.URL()); err != nil {
		return err
	}
	if k.etcd, err = StartChildWith(k.opts.Start, k.dir, "etcd", bins.Etcd, etcdArgs(k.dir, k.etcdPort, k.etcdPeer)...); err != nil {
		return err
	}
	if err := WaitChild(ctx, k.etcd, k.etcdHealthy); err != nil {
		return err
	}
	if k.api, err = StartChildWith(k.opts.Start, k.dir, "kube-apiserver", bins.APIServer, kubeAPIServerArgs(k.dir, k.PKI(), k.apiPort, k.etcdPort)...); err != nil {
		return err
	}
	return WaitChild(ctx, k.api, k.apiReady)
}

// Dir is the anchor's temporary directory (its logs, PKI and etcd data).
func (k *Anchor) Dir() string { return k.dir }

// PKI is the anchor's PKI (its admin kubeconfig among it).
func (k *Anchor) PKI() PKI { return PKI{Dir: filepath.Join(k.dir, "pki")} }

// URL is kube-apiserver's URL.
func (k *Anchor) URL() string { return "https://127.0.0.1:" + strconv.Itoa(k.apiPort) }

// RESTConfig is the admin's client config (see RESTConfig).
func (k *Anchor) RESTConfig() (*rest.Config, error) {
	return RESTConfig(k.PKI().Kubeconfig(), k.opts.Dial)
}

// etcdArgs runs one etcd member with its client and peer URLs on
// 127.0.0.1 and no other listener (no metrics URL).
func etcdArgs(dir string, clientPort, peerPort int) []string {
	client := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peer := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	return []string{
		"--name=bench", "--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=bench=" + peer, "--initial-cluster-state=new",
		"--log-level=warn",
	}
}

// kubeAPIServerArgs runs kube-apiserver as kubeadm would, but on 127.0.0.1
// only: the secure port (there is no other), client certificates from the
// anchor CA, RBAC, the default admission plugins (all in-process), and no
// reconciler for the kubernetes Service's endpoints (a loopback address is
// not a valid endpoint).
func kubeAPIServerArgs(dir string, p PKI, apiPort, etcdPort int) []string {
	return []string{
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(etcdPort),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + filepath.Join(dir, "kube-apiserver-certs"),
		"--tls-cert-file=" + p.ServingCert(), "--tls-private-key-file=" + p.ServingKey(),
		"--client-ca-file=" + p.CACert(),
		"--anonymous-auth=false",
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.saPub(),
		"--service-account-signing-key-file=" + p.saKey(),
		"--service-cluster-ip-range=10.96.0.0/12",
		"--endpoint-reconciler-type=none",
	}
}

// WaitChild polls ready every 200 ms until it succeeds, the child exits or
// ctx ends.
func WaitChild(ctx context.Context, c *Child, ready func(context.Context) error) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = ready(ctx); last == nil {
			return nil
		}
		select {
		case <-c.Exited():
			return fmt.Errorf("%s exited before it was ready: %s", c.name, c.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready (last: %v): %s", c.name, last, c.LogTail())
		case <-tick.C:
		}
	}
}

// etcdHealthy asks etcd's /health on its client URL.
func (k *Anchor) etcdHealthy(ctx context.Context) error {
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: k.dial()}}
	defer hc.CloseIdleConnections()
	return probe.OK(ctx, hc, "http://127.0.0.1:"+strconv.Itoa(k.etcdPort)+"/health")
}

func (k *Anchor) dial() DialFunc {
	if k.opts.Dial != nil {
		return k.opts.Dial
	}
	return (&net.Dialer{}).DialContext
}

// apiReady asks kube-apiserver's /readyz as the bench's admin.
func (k *Anchor) apiReady(ctx context.Context) error {
	cfg, err := k.RESTConfig()
	if err != nil {
		return err
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	return probe.Readyz(ctx, hc, k.URL())
}

// RSS is kube-apiserver's and etcd's resident set size (VmRSS) in bytes.
func (k *Anchor) RSS() (apiserver, etcd uint64, err error) {
	if apiserver, err = k.api.RSS(); err != nil {
		return 0, 0, err
	}
	etcd, err = k.etcd.RSS()
	return apiserver, etcd, err
}

// Stop stops kube-apiserver, then etcd, and removes the directory.
func (k *Anchor) Stop() error {
	defer os.RemoveAll(k.dir)
	var errs []error
	for _, c := range []*Child{k.api, k.etcd} {
		if c != nil {
			errs = append(errs, c.Stop())
		}
	}
	return errors.Join(errs...)
}

// Version is the first line bin --version prints, for reports.
func Version(ctx context.Context, bin string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return filepath.Base(bin) + " (--version: " + err.Error() + ")"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
