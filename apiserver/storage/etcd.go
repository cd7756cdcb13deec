package storage

import (
	"context"
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

// StartEmbedded runs etcd inside this process with its data in dir. It
// listens only on loopback ports picked by the kernel; this process talks to
// it in-process. etcd's own log goes to dir/etcd.log.
func StartEmbedded(ctx context.Context, dir string) (*Backend, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(dir, "etcd")
	cfg.Name = "nodeagent"
	loopback := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{loopback}, []url.URL{loopback}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{loopback}, []url.URL{loopback}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogOutputs = []string{filepath.Join(dir, "etcd.log")}
	cfg.LogLevel = "warn"
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

// Connect uses an external etcd cluster.
func Connect(ctx context.Context, endpoints []string) (*Backend, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("no etcd endpoints")
	}
	client, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 10 * time.Second, Context: ctx})
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
