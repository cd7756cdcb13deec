package certificate

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/connrotation"
)

// RotatingConfig is cfg with a transport that presents m's current
// certificate on every TLS handshake, as kubelet's: cfg's TLS settings
// (CA, server name) move into the transport, and the returned closeAll
// closes every connection the transport made, so that after a rotation
// the next requests and watches reconnect with the new certificate
// (client-go reloads a kubeconfig's certificate files only every five
// minutes, and keeps connections made with the old one).
func RotatingConfig(cfg *rest.Config, m *Manager) (*rest.Config, func(), error) {
	if cfg.Transport != nil || cfg.Dial != nil {
		return nil, nil, errors.New("client certificate rotation: the config has its own transport or dialer")
	}
	tlsCfg, err := rest.TLSConfigFor(cfg)
	if err != nil {
		return nil, nil, err
	}
	if tlsCfg == nil {
		return nil, nil, errors.New("client certificate rotation: the config does not use TLS")
	}
	tlsCfg.Certificates = nil
	tlsCfg.GetClientCertificate = m.GetClientCertificate
	d := connrotation.NewDialer((&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext)
	out := rest.CopyConfig(cfg)
	out.Transport = utilnet.SetTransportDefaults(&http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig:     tlsCfg,
		MaxIdleConnsPerHost: 25,
		DialContext:         d.DialContext,
	})
	// The transport enforces the TLS settings; client-go refuses a custom
	// transport beside them.
	out.TLSClientConfig = rest.TLSClientConfig{}
	return out, d.CloseAll, nil
}

// ConfigCertificate is cfg's client certificate (data or files), nil when
// it authenticates otherwise.
func ConfigCertificate(cfg *rest.Config) (*tls.Certificate, error) {
	certPEM, keyPEM := cfg.CertData, cfg.KeyData
	var err error
	if len(certPEM) == 0 && cfg.CertFile != "" {
		if certPEM, err = os.ReadFile(cfg.CertFile); err != nil {
			return nil, err
		}
	}
	if len(keyPEM) == 0 && cfg.KeyFile != "" {
		if keyPEM, err = os.ReadFile(cfg.KeyFile); err != nil {
			return nil, err
		}
	}
	if len(certPEM) == 0 {
		return nil, nil
	}
	return parsePair(certPEM, keyPEM)
}
