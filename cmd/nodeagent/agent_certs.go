package main

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"path/filepath"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/agent"
	"github.com/nodeagent/nodeagent/agent/certificate"
	"github.com/nodeagent/nodeagent/controllers/certificates"
)

// certOptions are kubelet's TLS bootstrapping and client certificate
// rotation flags.
type certOptions struct {
	bootstrapKubeconfig string
	certDir             string
	rotate              bool
	rotateServer        bool
}

func certFlags(fs *flag.FlagSet, c *certOptions) {
	fs.StringVar(&c.bootstrapKubeconfig, "bootstrap-kubeconfig", "", "kubeconfig with bootstrap credentials (a bootstrap token): when --kubeconfig holds no valid client certificate, the agent asks for one with a CertificateSigningRequest (signer kubernetes.io/kube-apiserver-client-kubelet), stores it in --cert-dir and writes --kubeconfig for it")
	fs.StringVar(&c.certDir, "cert-dir", "", "directory (0700) of the node's client key pairs: kubelet-client-<time>.pem and the symlink kubelet-client-current.pem (default <root-dir>/pki)")
	fs.BoolVar(&c.rotate, "rotate-certificates", true, "renew the node's client certificate with a CertificateSigningRequest when 70-90% of its lifetime has passed, and use the new one without a restart")
	fs.BoolVar(&c.rotateServer, "rotate-server-certificates", false, "serve the agent API with a certificate for the node's name and address asked for with a CertificateSigningRequest (signer kubernetes.io/kubelet-serving; nodeagent's server approves a node's own names, kube leaves it to `kubectl certificate approve`), kept in --cert-dir as kubelet-server-current.pem and renewed like the client's; self-signed until it is issued. Not with --tls-cert-file")
}

// validate refuses serving certificates from two sources.
func (c certOptions) validate(tlsCertFile string) error {
	if c.rotateServer && tlsCertFile != "" {
		return errors.New("--rotate-server-certificates and --tls-cert-file: give one of them")
	}
	return nil
}

// servingCertificates is the serving certificate manager of
// --rotate-server-certificates, for the node's name and address; nil
// without the flag.
func servingCertificates(log *slog.Logger, o *agentOptions) (*certificate.Manager, error) {
	if !o.certs.rotateServer {
		return nil, nil
	}
	store, err := o.certStore()
	if err != nil {
		return nil, err
	}
	store.Prefix = certificate.ServingPrefix
	names := certificate.Names{DNS: []string{o.cfg.NodeName}}
	if ip := net.ParseIP(agent.NodeIP(o.cfg)); ip != nil {
		names.IPs = []net.IP{ip}
	}
	return certificate.NewManager(certificate.ManagerConfig{Store: store, NodeName: o.cfg.NodeName, Clock: clock.RealClock{},
		Jitter: rand.Float64, Names: func() certificate.Names { return names }}, log)
}

// store is the cert dir's, its path made absolute (kubeconfigs name it).
func (o *agentOptions) certStore() (certificate.Store, error) {
	dir := o.certs.certDir
	if dir == "" {
		dir = filepath.Join(o.cfg.RootDir, "pki")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return certificate.Store{}, fmt.Errorf("--cert-dir: %w", err)
	}
	return certificate.Store{Dir: abs}, nil
}

// bootstrapNode is kubelet's TLS bootstrapping, when
// --bootstrap-kubeconfig is given.
func bootstrapNode(ctx context.Context, log *slog.Logger, o *agentOptions) error {
	if o.certs.bootstrapKubeconfig == "" {
		return nil
	}
	store, err := o.certStore()
	if err != nil {
		return err
	}
	return certificate.Bootstrap(ctx, certificate.BootstrapConfig{Kubeconfig: o.kubeconfig,
		BootstrapKubeconfig: o.certs.bootstrapKubeconfig, Store: store, NodeName: o.cfg.NodeName}, log)
}

// rotatingClientConfig is restCfg with a transport that presents the
// rotation manager's current certificate, and the manager to run with the
// client made from it; restCfg and nil when rotation is off or the node
// authenticates without a client certificate.
func rotatingClientConfig(log *slog.Logger, o *agentOptions, restCfg *rest.Config) (*rest.Config, *certificate.Manager, error) {
	if !o.certs.rotate {
		return restCfg, nil, nil
	}
	initial, err := certificate.ConfigCertificate(restCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("the kubeconfig's client certificate: %w", err)
	}
	if initial == nil {
		log.Info("no client certificate rotation: the kubeconfig authenticates without one")
		return restCfg, nil, nil
	}
	store, err := o.certStore()
	if err != nil {
		return nil, nil, err
	}
	var closeAll func()
	m, err := certificate.NewManager(certificate.ManagerConfig{Store: store, NodeName: o.cfg.NodeName, Initial: initial,
		Clock: clock.RealClock{}, Jitter: rand.Float64, OnRotate: func() { closeAll() },
		StopWhenExpired: o.certs.bootstrapKubeconfig != ""}, log)
	if err != nil {
		return nil, nil, err
	}
	cfg, closeAll, err := certificate.RotatingConfig(restCfg, m)
	if err != nil {
		return nil, nil, err
	}
	return cfg, m, nil
}

// runRotation renews the node's client certificate until ctx ends. When
// it expired and the API server refuses to renew it, a node with
// --bootstrap-kubeconfig stops (stop) so that its restart bootstraps
// again, as kubelet exits; one without keeps trying.
func runRotation(ctx context.Context, m *certificate.Manager, client kubernetes.Interface, stop context.CancelCauseFunc) {
	if m == nil {
		return
	}
	go func() {
		if err := m.Run(ctx, client); err != nil {
			stop(fmt.Errorf("%w; stopping so that a restart bootstraps with --bootstrap-kubeconfig", err))
		}
	}()
}

// proxyPairPrefix names the proxy's pairs in the cert dir.
const proxyPairPrefix = "kube-proxy-client"

// rotatingProxyConfig is cfg (--proxy-kubeconfig's) with a transport that
// presents the current system:kube-proxy certificate, and the Manager that
// renews it at 70-90 % of its life through a CSR the node makes with its
// own credentials (nodeagent's server approves kubeproxyclient requests
// of nodes), stored as <cert-dir>/kube-proxy-client-current.pem. cfg and
// nil without --rotate-certificates, or for a kubeconfig whose identity is
// another (a token, another user): nothing renews those.
func rotatingProxyConfig(log *slog.Logger, o *agentOptions, cfg *rest.Config) (*rest.Config, *certificate.Manager, error) {
	if !o.certs.rotate {
		return cfg, nil, nil
	}
	initial, err := certificate.ConfigCertificate(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("its client certificate: %w", err)
	}
	if initial == nil || initial.Leaf.Subject.CommonName != certificates.ProxyUser || len(initial.Leaf.Subject.Organization) > 0 {
		return cfg, nil, nil
	}
	store, err := o.certStore()
	if err != nil {
		return nil, nil, err
	}
	store.Prefix = proxyPairPrefix
	var closeAll func()
	m, err := certificate.NewManager(certificate.ManagerConfig{Store: store, NodeName: o.cfg.NodeName, Initial: initial,
		Clock: clock.RealClock{}, Jitter: rand.Float64, OnRotate: func() { closeAll() },
		Identity: &certificate.Identity{Subject: pkix.Name{CommonName: certificates.ProxyUser}, Signer: certificates.ClientSigner, GenerateName: "kube-proxy-csr-"}}, log)
	if err != nil {
		return nil, nil, err
	}
	cfg, closeAll, err = certificate.RotatingConfig(cfg, m)
	if err != nil {
		return nil, nil, err
	}
	return cfg, m, nil
}
