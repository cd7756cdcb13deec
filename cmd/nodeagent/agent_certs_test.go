package main

import (
	"flag"
	"log/slog"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/certs"
)

// kubelet's flags: --cert-dir defaults under --root-dir, rotation is on.
func TestCertFlags(t *testing.T) {
	o := defaultAgentOptions()
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	agentFlags(fs, o)
	certFlags(fs, &o.certs)
	if err := fs.Parse([]string{"--root-dir", "/var/lib/na", "--bootstrap-kubeconfig", "/etc/na/bootstrap.kubeconfig"}); err != nil {
		t.Fatal(err)
	}
	store, err := o.certStore()
	if err != nil || store.Dir != "/var/lib/na/pki" || !o.certs.rotate || o.certs.bootstrapKubeconfig != "/etc/na/bootstrap.kubeconfig" {
		t.Errorf("cert dir %q (%v), rotate %v, bootstrap %q", store.Dir, err, o.certs.rotate, o.certs.bootstrapKubeconfig)
	}
}

// Rotation wraps the transport of a client-certificate config only, and
// only when it is on; a config it wraps has no TLS options left (client-go
// refuses them beside a transport) and presents the certificate.
func TestRotatingClientConfig(t *testing.T) {
	o := defaultAgentOptions()
	o.certs.rotate = true
	o.cfg.RootDir = t.TempDir()
	token := &rest.Config{Host: "https://192.0.2.1:6443", BearerToken: "t"}
	if cfg, m, err := rotatingClientConfig(slog.New(slog.DiscardHandler), o, token); err != nil || cfg != token || m != nil {
		t.Errorf("token config: %v %v %v, want it unchanged", cfg, m, err)
	}
	ca, err := certs.LoadOrCreateCA(t.TempDir(), "ca")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.ClientCert(t.TempDir(), "node", "system:node:a", []string{"system:nodes"})
	if err != nil {
		t.Fatal(err)
	}
	withCert := &rest.Config{Host: "https://192.0.2.1:6443", TLSClientConfig: rest.TLSClientConfig{CertData: kp.CertPEM, KeyData: kp.KeyPEM, CAData: ca.CertPEM}}
	cfg, m, err := rotatingClientConfig(slog.New(slog.DiscardHandler), o, withCert)
	if err != nil || m == nil || cfg.Transport == nil || len(cfg.CertData)+len(cfg.CAData) != 0 {
		t.Fatalf("certificate config: %+v %v %v", cfg, m, err)
	}
	if !m.Current().Leaf.Equal(kp.Cert) {
		t.Error("the manager does not start from the kubeconfig's certificate")
	}
	if _, err := rest.HTTPClientFor(cfg); err != nil {
		t.Errorf("client-go refuses the rotating config: %v", err)
	}
	o.certs.rotate = false
	if cfg, m, err := rotatingClientConfig(slog.New(slog.DiscardHandler), o, withCert); err != nil || cfg != withCert || m != nil {
		t.Errorf("--rotate-certificates=false: %v %v %v, want the config unchanged", cfg, m, err)
	}
}
