package certificate

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// DefaultBootstrapTimeout is how long the bootstrap waits for its request
// to be approved and signed.
const DefaultBootstrapTimeout = time.Hour

// BootstrapConfig is kubelet's TLS bootstrapping: Kubeconfig is the node's
// (written when it holds no valid certificate), BootstrapKubeconfig the
// credentials (a bootstrap token) that may ask for one.
type BootstrapConfig struct {
	Kubeconfig, BootstrapKubeconfig string
	Store                           Store
	NodeName                        string
	Timeout                         time.Duration
	Now                             func() time.Time
	// NewClient makes the bootstrap client (tests: a fake).
	NewClient func(*rest.Config) (kubernetes.Interface, error)
}

// Bootstrap makes sure Kubeconfig holds a client certificate valid now:
// a kubeconfig that does, or one without client certificates (a token),
// is left alone; else it is written anew to point at the Store's current
// pair, asked for first with the bootstrap credentials when the Store has
// none valid.
func Bootstrap(ctx context.Context, c BootstrapConfig, log *slog.Logger) error {
	now := c.now()
	ok, why := kubeconfigValid(c.Kubeconfig, now)
	if ok {
		log.Info("the kubeconfig's client certificate is valid; no bootstrap", "kubeconfig", c.Kubeconfig)
		return nil
	}
	log.Info("the kubeconfig holds no valid client certificate: TLS bootstrapping", "kubeconfig", c.Kubeconfig, "why", why)
	boot, err := clientcmd.BuildConfigFromFlags("", c.BootstrapKubeconfig)
	if err != nil {
		return fmt.Errorf("--bootstrap-kubeconfig: %w", err)
	}
	if err := c.Store.ensureDir(); err != nil {
		return err
	}
	if pair, err := c.Store.Current(); err == nil && validAt(pair.Leaf, now) {
		log.Info("the cert dir holds a valid client certificate; writing the kubeconfig for it", "cert", c.Store.CurrentPath())
		return writeKubeconfig(c.Kubeconfig, boot, c.Store.CurrentPath())
	}
	client, err := c.newClient(boot)
	if err != nil {
		return fmt.Errorf("bootstrap client: %w", err)
	}
	if err := c.requestFirst(ctx, client, log); err != nil {
		return err
	}
	return writeKubeconfig(c.Kubeconfig, boot, c.Store.CurrentPath())
}

// requestFirst asks for the node's first certificate with the key kept in
// the cert dir while the request is under way, and stores the pair.
func (c BootstrapConfig) requestFirst(ctx context.Context, client kubernetes.Interface, log *slog.Logger) error {
	key, keyPEM, err := c.pendingKey()
	if err != nil {
		return err
	}
	name, err := digestedName(key, c.NodeName)
	if err != nil {
		return err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultBootstrapTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	certPEM, err := requestCertificate(ctx, client, nodeRequest(name, "", key, c.NodeName), log)
	if err != nil {
		return fmt.Errorf("TLS bootstrap: %w", err)
	}
	if _, err := c.Store.Update(certPEM, keyPEM, c.now()); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(c.Store.Dir, pendingKey)); err != nil {
		log.Warn("remove the bootstrap key", "err", err)
	}
	return nil
}

// pendingKey is the key of the request under way: the one a previous run
// left in the cert dir, else a new one written there (0600).
func (c BootstrapConfig) pendingKey() (crypto.Signer, []byte, error) {
	path := filepath.Join(c.Store.Dir, pendingKey)
	if data, err := os.ReadFile(path); err == nil {
		if key, err := parseKey(data); err == nil {
			return key, data, nil
		}
	}
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	if err := writeAtomic(path, data); err != nil {
		return nil, nil, err
	}
	return key, data, nil
}

func parseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "EC PRIVATE KEY" {
		return nil, errors.New("not an EC PRIVATE KEY")
	}
	return x509.ParseECPrivateKey(block.Bytes)
}

func (c BootstrapConfig) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c BootstrapConfig) newClient(cfg *rest.Config) (kubernetes.Interface, error) {
	if c.NewClient != nil {
		return c.NewClient(cfg)
	}
	return kubernetes.NewForConfig(cfg)
}

// kubeconfigValid: the kubeconfig loads and its client certificate, if it
// has one, is valid at now; else why not.
func kubeconfigValid(path string, now time.Time) (bool, string) {
	if _, err := os.Stat(path); err != nil {
		return false, err.Error()
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return false, err.Error()
	}
	certPEM, err := clientCertPEM(cfg)
	if err != nil {
		return false, err.Error()
	}
	if certPEM == nil {
		return true, ""
	}
	cert, err := firstCertificate(certPEM)
	if err != nil {
		return false, "its client certificate: " + err.Error()
	}
	if !validAt(cert, now) {
		return false, fmt.Sprintf("its client certificate is valid from %s to %s", cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return true, ""
}

// clientCertPEM is the rest config's client certificate (data or file),
// nil when it has none.
func clientCertPEM(cfg *rest.Config) ([]byte, error) {
	if len(cfg.CertData) > 0 {
		return cfg.CertData, nil
	}
	if cfg.CertFile != "" {
		return os.ReadFile(cfg.CertFile)
	}
	return nil, nil
}

// writeKubeconfig writes the node's kubeconfig (0600, atomically): the
// bootstrap kubeconfig's server and CA, and the pair file as the client
// certificate and key.
func writeKubeconfig(path string, boot *rest.Config, pairPath string) error {
	cluster := &clientcmdapi.Cluster{Server: boot.Host, CertificateAuthority: boot.CAFile,
		CertificateAuthorityData: boot.CAData, TLSServerName: boot.ServerName, InsecureSkipTLSVerify: boot.Insecure}
	if cluster.CertificateAuthority != "" {
		cluster.CertificateAuthority, _ = filepath.Abs(cluster.CertificateAuthority)
	}
	cfg := clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"default-cluster": cluster},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{"default-auth": {ClientCertificate: pairPath, ClientKey: pairPath}},
		Contexts:       map[string]*clientcmdapi.Context{"default-context": {Cluster: "default-cluster", AuthInfo: "default-auth"}},
		CurrentContext: "default-context",
	}
	data, err := clientcmd.Write(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeAtomic(path, data)
}

// firstCertificate is the first CERTIFICATE block's (a pair file holds
// the key before it).
func firstCertificate(data []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM certificate")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}
