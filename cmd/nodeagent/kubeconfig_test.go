package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/certs"
	"k8s.io/client-go/tools/clientcmd"
)

// `nodeagent kubeconfig node` with a data dir that holds no CA refuses,
// and makes nothing there (it used to make a new CA no server trusts).
func TestKubeconfigNodeRefusesWithoutCA(t *testing.T) {
	env, out := testEnv()
	dir := t.TempDir()
	err := dispatch(context.Background(), env, []string{"kubeconfig", "node", "n1", "--data-dir", dir})
	if err == nil || !strings.Contains(err.Error(), "no cluster CA in "+dir+"/pki") {
		t.Fatalf("got %v, want a refusal naming the missing CA", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 || out.Len() != 0 {
		t.Fatalf("made %v and printed %q", entries, out.String())
	}
}

// `nodeagent kubeconfig kube-proxy` mints system:kube-proxy (no groups: its
// rights are system:node-proxier's, through the default binding) with the
// server's CA, into a file only root reads; without a CA it refuses.
func TestKubeconfigKubeProxy(t *testing.T) {
	env, _ := testEnv()
	dir := t.TempDir()
	if err := dispatch(context.Background(), env, []string{"kubeconfig", "kube-proxy", "--data-dir", dir}); err == nil ||
		!strings.Contains(err.Error(), "no cluster CA in "+dir+"/pki") {
		t.Fatalf("without a CA: %v, want a refusal naming the missing CA", err)
	}
	if _, err := certs.LoadOrCreateCA(filepath.Join(dir, "pki"), "nodeagent-ca"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "kube-proxy.kubeconfig")
	if err := dispatch(context.Background(), env, []string{"kubeconfig", "kube-proxy", "--data-dir", dir, "--server", "https://192.0.2.1:6443", "--out", out}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v, want mode 0600", out, fi, err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", out)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(cfg.TLSClientConfig.CertData)
	if block == nil {
		t.Fatalf("no client certificate in %s", out)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "system:kube-proxy" || len(cert.Subject.Organization) != 0 || cfg.Host != "https://192.0.2.1:6443" {
		t.Errorf("user %q groups %v server %q; want system:kube-proxy, no groups, https://192.0.2.1:6443",
			cert.Subject.CommonName, cert.Subject.Organization, cfg.Host)
	}
}

func TestNodeRoutesFlag(t *testing.T) {
	for v, ok := range map[string]bool{"host-gw": true, "vxlan": true, "none": true, "": false, "udp": false} {
		if err := validNodeRoutes(v); (err == nil) != ok {
			t.Errorf("--node-routes %q: %v", v, err)
		}
	}
}
