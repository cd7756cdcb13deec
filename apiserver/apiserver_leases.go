package apiserver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Several servers may share one etcd cluster; the kubernetes Service's
// EndpointSlice lists them all. Each server keeps a key with its advertise
// address under apiServerLeasePrefix, bound to an etcd lease it keeps
// alive: a server that stops (or dies) drops out when its lease ends.
const (
	apiServerLeasePrefix = "/registry/apiserverleases/"
	apiServerLeaseTTL    = 30 // seconds: three sync periods
)

// holdAPIServerLease keeps this server's key until ctx ends, then revokes
// it so that the address goes at once.
func (s *Server) holdAPIServerLease(ctx context.Context) {
	kv := s.backend.Client
	lease, err := kv.Grant(ctx, apiServerLeaseTTL)
	if err != nil {
		s.log.Warn("apiserver lease", "err", err)
		return
	}
	if _, err := kv.Put(ctx, apiServerLeasePrefix+s.advertise, s.advertise, clientv3.WithLease(lease.ID)); err != nil {
		s.log.Warn("apiserver lease", "err", err)
		return
	}
	alive, err := kv.KeepAlive(ctx, lease.ID)
	if err != nil {
		s.log.Warn("apiserver lease keepalive", "err", err)
		return
	}
	for range alive {
	}
	rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	kv.Revoke(rctx, lease.ID)
}

// apiServerAddresses are the advertise addresses of the running servers,
// this one's included, sorted.
func (s *Server) apiServerAddresses(ctx context.Context) ([]string, error) {
	resp, err := s.backend.Client.Get(ctx, apiServerLeasePrefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, fmt.Errorf("list apiserver leases: %w", err)
	}
	out := []string{s.advertise}
	for _, kv := range resp.Kvs {
		if a := strings.TrimPrefix(string(kv.Key), apiServerLeasePrefix); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out, nil
}
