package storage

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
)

// Backend is an etcd to keep objects in: embedded in this process, or an
// external cluster.
type Backend struct {
	Client *clientv3.Client
	close  func() error
}

// Close disconnects and, for an embedded etcd, stops it.
func (b *Backend) Close() error { return b.close() }

// embeddedCatchUpEntries is the embedded member's raft log kept in memory
// after each in-memory snapshot (etcd takes one every 100 entries).
const embeddedCatchUpEntries = 500

// StartEmbedded runs etcd inside this process with its data in dir. It
// listens on nothing: no client, peer or metrics port, no unix socket; this
// process talks to it in-process (v3client), so no other user, process or
// hostNetwork pod can reach it. The member still has a peer URL (etcd's
// membership needs one); nothing listens there. dir and what etcd writes in
// it are for this user only (0700 directories, 0600 files); etcd's own log
// goes to dir/etcd.log.
func StartEmbedded(ctx context.Context, dir string) (*Backend, error) {
	logPath := filepath.Join(dir, "etcd.log")
	if err := privateDir(dir, logPath); err != nil {
		return nil, err
	}
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(dir, "etcd")
	cfg.Name = "nodeagent"
	unlistened := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = nil, []url.URL{unlistened}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = nil, []url.URL{unlistened}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogOutputs = []string{logPath}
	cfg.LogLevel = "warn"
	// etcd keeps this many applied raft entries in memory for a slow
	// follower to catch up from (5,000 by default: ~15 MB of pod writes).
	// The embedded member has no peer listener, so no follower: keep few.
	cfg.SnapshotCatchUpEntries = embeddedCatchUpEntries
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", cfg.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	client := v3client.New(e.Server)
	return &Backend{Client: client, close: func() error {
		err := client.Close()
		e.Close()
		return err
	}}, nil
}

// privateDir makes dir (0700) and the log file (0600), and tightens them
// when they exist with looser modes.
func privateDir(dir, logPath string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	return os.Chmod(logPath, 0o600)
}

// ClientTLS are the files for TLS to an external etcd, as kube-apiserver's
// --etcd-cafile, --etcd-certfile and --etcd-keyfile. All empty: no client
// certificate, and the system's roots for https endpoints.
type ClientTLS struct {
	CAFile   string // CAs that sign etcd's serving certificates
	CertFile string // client certificate
	KeyFile  string // its key
}

func (c ClientTLS) config() (*tls.Config, error) {
	if c == (ClientTLS{}) {
		return nil, nil
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, errors.New("etcd client TLS: a certificate file and a key file go together")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcd CA file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd CA file %s: no PEM certificate in it", c.CAFile)
		}
	}
	if c.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// Connect uses an external etcd cluster, over TLS with the given files.
func Connect(ctx context.Context, endpoints []string, files ClientTLS) (*Backend, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("no etcd endpoints")
	}
	tlsCfg, err := files.config()
	if err != nil {
		return nil, err
	}
	client, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 10 * time.Second, Context: ctx, TLS: tlsCfg})
	if err != nil {
		return nil, fmt.Errorf("connect to etcd %v: %w", endpoints, err)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := client.Status(sctx, endpoints[0]); err != nil {
		client.Close()
		return nil, fmt.Errorf("etcd %s is not answering: %w", endpoints[0], err)
	}
	return &Backend{Client: client, close: client.Close}, nil
}
