package storage

import (
	"context"
	"net"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/nodeagent/nodeagent/certs"
)

// tlsEtcd runs an etcd that serves clients on loopback over TLS and asks
// for client certificates from the CA in pki; it is stopped when the test
// ends.
func tlsEtcd(t *testing.T, pki string) string {
	t.Helper()
	ca, err := certs.LoadOrCreateCA(pki, "etcd-ca")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.ServingCert(pki, "etcd-server", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}); err != nil {
		t.Fatal(err)
	}
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(t.TempDir(), "etcd")
	cfg.LogOutputs = []string{filepath.Join(t.TempDir(), "etcd.log")}
	peer := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	client := url.URL{Scheme: "https", Host: "127.0.0.1:0"}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = nil, []url.URL{peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ClientTLSInfo.CertFile = filepath.Join(pki, "etcd-server.crt")
	cfg.ClientTLSInfo.KeyFile = filepath.Join(pki, "etcd-server.key")
	cfg.ClientTLSInfo.TrustedCAFile = filepath.Join(pki, "ca.crt")
	cfg.ClientTLSInfo.ClientCertAuth = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatal("etcd not ready")
	}
	return "https://" + e.Clients[0].Addr().String()
}

// --etcd-cafile, --etcd-certfile and --etcd-keyfile reach an etcd that
// wants a client certificate; without them, or with a certificate but no
// key, Connect fails.
func TestConnectWithClientTLS(t *testing.T) {
	pki := t.TempDir()
	endpoint := tlsEtcd(t, pki)
	ca, err := certs.LoadOrCreateCA(pki, "etcd-ca")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.ClientCert(pki, "apiserver-etcd-client", "kube-apiserver-etcd-client", nil); err != nil {
		t.Fatal(err)
	}
	files := ClientTLS{CAFile: filepath.Join(pki, "ca.crt"), CertFile: filepath.Join(pki, "apiserver-etcd-client.crt"),
		KeyFile: filepath.Join(pki, "apiserver-etcd-client.key")}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Connect(ctx, []string{endpoint}, files)
	if err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	defer b.Close()
	if _, err := b.Client.Put(ctx, "/registry/x", "y"); err != nil {
		t.Fatal(err)
	}

	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	defer cancelShort()
	if b, err := Connect(short, []string{endpoint}, ClientTLS{CAFile: files.CAFile}); err == nil {
		b.Close()
		t.Fatal("connected without a client certificate")
	}
	if _, err := Connect(ctx, []string{endpoint}, ClientTLS{CAFile: files.CAFile, CertFile: files.CertFile}); err == nil {
		t.Fatal("a certificate without its key was accepted")
	}
}
