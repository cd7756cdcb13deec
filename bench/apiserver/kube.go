package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/bench/internal/probe"
)

// kubeReadyTimeout bounds how long etcd and kube-apiserver together may
// take to become ready (kube-apiserver installs its bootstrap RBAC policy,
// priority levels and the like first).
const kubeReadyTimeout = 3 * time.Minute

// anchorBins are the programs of the anchor target.
type anchorBins struct {
	apiserver string // kube-apiserver
	etcd      string // etcd, the server
}

// kubeAnchor is a real kube-apiserver on an etcd of its own, both listening
// on 127.0.0.1 only, with their state in one temporary directory.
type kubeAnchor struct {
	dir                           string // removed by stop
	apiPort, etcdPort, etcdPeer   int
	etcd, api                     *child
	apiserverVersion, etcdVersion string
}

// startKube starts etcd, then kube-apiserver on it, and waits until the
// API is ready to take the bench's pods. On error nothing is left behind.
func startKube(ctx context.Context, bins anchorBins) (*kubeAnchor, error) {
	dir, err := os.MkdirTemp("", "nodeagent-bench-kube-")
	if err != nil {
		return nil, fmt.Errorf("temp dir for kube-apiserver and etcd: %w", err)
	}
	k := &kubeAnchor{dir: dir, apiserverVersion: binVersion(ctx, bins.apiserver), etcdVersion: binVersion(ctx, bins.etcd)}
	if err := k.start(ctx, bins); err != nil {
		if serr := k.stop(); serr != nil {
			err = errors.Join(err, serr)
		}
		return nil, err
	}
	return k, nil
}

func (k *kubeAnchor) start(ctx context.Context, bins anchorBins) error {
	ctx, cancel := context.WithTimeout(ctx, kubeReadyTimeout)
	defer cancel()
	ports, err := freeLoopbackPorts(3)
	if err != nil {
		return err
	}
	k.apiPort, k.etcdPort, k.etcdPeer = ports[0], ports[1], ports[2]
	if err := writeKubePKI(k.pki(), k.url()); err != nil {
		return err
	}
	if k.etcd, err = startChild(k.dir, "etcd", bins.etcd, etcdArgs(k.dir, k.etcdPort, k.etcdPeer)...); err != nil {
		return err
	}
	if err := waitChild(ctx, k.etcd, k.etcdHealthy); err != nil {
		return err
	}
	if k.api, err = startChild(k.dir, "kube-apiserver", bins.apiserver, kubeAPIServerArgs(k.dir, k.pki(), k.apiPort, k.etcdPort)...); err != nil {
		return err
	}
	if err := waitChild(ctx, k.api, k.apiReady); err != nil {
		return err
	}
	return k.waitServiceAccount(ctx)
}

func (k *kubeAnchor) pki() kubePKI { return kubePKI{dir: filepath.Join(k.dir, "pki")} }

func (k *kubeAnchor) url() string { return "https://127.0.0.1:" + strconv.Itoa(k.apiPort) }

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
func kubeAPIServerArgs(dir string, p kubePKI, apiPort, etcdPort int) []string {
	return []string{
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(etcdPort),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + filepath.Join(dir, "kube-apiserver-certs"),
		"--tls-cert-file=" + p.servingCert(), "--tls-private-key-file=" + p.servingKey(),
		"--client-ca-file=" + p.caCert(),
		"--anonymous-auth=false",
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.saPub(),
		"--service-account-signing-key-file=" + p.saKey(),
		"--service-cluster-ip-range=10.96.0.0/12",
		"--endpoint-reconciler-type=none",
	}
}

// waitChild polls ready every 200 ms until it succeeds, the child exits or
// ctx ends.
func waitChild(ctx context.Context, c *child, ready func(context.Context) error) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = ready(ctx); last == nil {
			return nil
		}
		select {
		case <-c.proc.Exited():
			return fmt.Errorf("%s exited before it was ready: %s", c.name, c.logTail())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready (last: %v): %s", c.name, last, c.logTail())
		case <-tick.C:
		}
	}
}

// etcdHealthy asks etcd's /health on its client URL.
func (k *kubeAnchor) etcdHealthy(ctx context.Context) error {
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer hc.CloseIdleConnections()
	return probe.OK(ctx, hc, "http://127.0.0.1:"+strconv.Itoa(k.etcdPort)+"/health")
}

// apiReady asks kube-apiserver's /readyz as the bench's admin.
func (k *kubeAnchor) apiReady(ctx context.Context) error {
	cfg, err := k.restConfig()
	if err != nil {
		return err
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	return probe.Readyz(ctx, hc, k.url())
}

// waitServiceAccount makes the default ServiceAccount of the bench
// namespace, which kube-controller-manager would (the ServiceAccount
// admission plugin refuses pods until it exists).
func (k *kubeAnchor) waitServiceAccount(ctx context.Context) error {
	cfg, err := k.restConfig()
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: benchNamespace}}
	_, err = cs.CoreV1().ServiceAccounts(benchNamespace).Create(ctx, sa, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("anchor: create serviceaccount %s/default: %w", benchNamespace, err)
	}
	return nil
}

func (k *kubeAnchor) name() string { return "kube-apiserver+etcd" }

func (k *kubeAnchor) restConfig() (*rest.Config, error) {
	return kubeconfigRESTConfig(k.pki().kubeconfig())
}

// rss is kube-apiserver's and etcd's.
func (k *kubeAnchor) rss() ([]procRSS, error) {
	a, err := k.api.rss()
	if err != nil {
		return nil, err
	}
	e, err := k.etcd.rss()
	return []procRSS{{"kube-apiserver", a}, {"etcd", e}}, err
}

// stop stops kube-apiserver, then etcd, and removes the directory.
func (k *kubeAnchor) stop() error {
	defer os.RemoveAll(k.dir)
	var errs []error
	for _, c := range []*child{k.api, k.etcd} {
		if c != nil {
			errs = append(errs, c.stop())
		}
	}
	return errors.Join(errs...)
}

// binVersion is the first line bin --version prints, for the report.
func binVersion(ctx context.Context, bin string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return filepath.Base(bin) + " (--version: " + err.Error() + ")"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// freeLoopbackPorts asks the kernel for n distinct free ports on 127.0.0.1.
func freeLoopbackPorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for len(ports) < n {
		p, err := freeLoopbackPort()
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}
