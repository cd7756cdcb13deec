package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/nodeagent/nodeagent/certs"
)

// The files join keeps in --credentials-dir.
const (
	bootstrapKubeconfigFile = "bootstrap.kubeconfig"
	nodeKubeconfigFile      = "node.kubeconfig"
	proxyKubeconfigFile     = "kube-proxy.kubeconfig"
)

func (o joinOptions) path(file string) string { return filepath.Join(o.dir, file) }

// discoverTimeout bounds the TLS handshake that finds the pinned CA.
const discoverTimeout = 30 * time.Second

// discoverFunc finds the CA whose PinHash is pin behind server
// (certs.DiscoverCA; tests: a fake).
type discoverFunc func(ctx context.Context, server, pin string) (*x509.Certificate, error)

func discoverCA(ctx context.Context, server, pin string) (*x509.Certificate, error) {
	return certs.DiscoverCA(ctx, server, pin, nil)
}

// joinCA is the cluster CA join trusts. A start after a finished join
// takes the one that join verified (verifiedCA), so that the node starts
// while the server is down, as kubelet after kubeadm join starts from its
// kubeconfig; any other start finds it behind the pin (discover). kept
// says which: the earlier join's credentials are kept.
func joinCA(ctx context.Context, o joinOptions, discover discoverFunc, log *slog.Logger) (ca *x509.Certificate, kept bool, err error) {
	ca, why := verifiedCA(o)
	if ca != nil {
		log.Info("the credentials of an earlier join are for this server and pin: no CA discovery", "credentials", o.dir)
		return ca, true, nil
	}
	dctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	ca, err = discover(dctx, o.server, o.caHash)
	if err != nil && why != "" {
		return nil, false, fmt.Errorf("join %s: %w (the credentials in %s are not reused: %s)", o.server, err, o.dir, why)
	}
	if err != nil {
		return nil, false, fmt.Errorf("join %s: %w", o.server, err)
	}
	return ca, false, nil
}

// verifiedCA is the CA of the bootstrap kubeconfig an earlier start wrote,
// when that kubeconfig is for this server, its CA is the pinned one (the
// earlier start checked the server holds it) and the node kubeconfig is
// there (that join got as far as the agent). Else nil, and why not ("":
// no earlier join here).
func verifiedCA(o joinOptions) (*x509.Certificate, string) {
	boot := o.path(bootstrapKubeconfigFile)
	cfg, err := clientcmd.BuildConfigFromFlags("", boot)
	if os.IsNotExist(err) {
		return nil, ""
	}
	if err != nil {
		return nil, fmt.Sprintf("%s: %v", boot, err)
	}
	if cfg.Host != o.server {
		return nil, fmt.Sprintf("%s is for %s, not %s", boot, cfg.Host, o.server)
	}
	ca, err := certs.ParseCertPEM(cfg.TLSClientConfig.CAData)
	if err != nil {
		return nil, fmt.Sprintf("%s: its CA: %v", boot, err)
	}
	if pin := certs.PinHash(ca); pin != o.caHash {
		return nil, fmt.Sprintf("%s holds CA %s, not the pinned %s", boot, pin, o.caHash)
	}
	if _, err := os.Stat(o.path(nodeKubeconfigFile)); err != nil {
		return nil, fmt.Sprintf("no node kubeconfig: %v", err)
	}
	return ca, ""
}

// hasProxyCredentials says whether the kubeconfig at path is for server
// and CA caPEM and holds a client certificate, valid or not: the agent
// renews it (rotatingProxyConfig) with the node's credentials, at 70-90 %
// of its life or at once when it expired, so a restart needs neither the
// server nor a join token that may have expired since.
func hasProxyCredentials(path, server string, caPEM []byte) bool {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil || cfg.Host != server || !bytes.Equal(cfg.TLSClientConfig.CAData, caPEM) {
		return false
	}
	_, err = certs.ParseCertPEM(cfg.TLSClientConfig.CertData)
	return err == nil
}

// otherClusterCredentials refuses a join whose credentials dir holds a
// node kubeconfig that trusts another CA than ca (the node joined another
// cluster, or the cluster was made anew): the agent would use it and
// never bootstrap. As kubeadm join refuses an existing kubelet.conf, it
// names the file and leaves it to the user to move it aside.
func otherClusterCredentials(o joinOptions, ca *x509.Certificate) error {
	path := o.path(nodeKubeconfigFile)
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	data := cfg.TLSClientConfig.CAData
	if len(data) == 0 && cfg.TLSClientConfig.CAFile != "" {
		if data, err = os.ReadFile(cfg.TLSClientConfig.CAFile); err != nil {
			return fmt.Errorf("%s: its CA: %w", path, err)
		}
	}
	old, err := certs.ParseCertPEM(data)
	if err != nil {
		return fmt.Errorf("%s: its CA: %w", path, err)
	}
	if !old.Equal(ca) {
		return fmt.Errorf("%s holds credentials for another cluster (CA %s, not %s): move %s aside, or give another --credentials-dir, to join this one",
			path, certs.PinHash(old), certs.PinHash(ca), o.dir)
	}
	return nil
}
