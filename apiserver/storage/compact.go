package storage

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Compactor drops etcd history older than one interval, as kube-apiserver
// does every five minutes: at each tick it compacts to the revision it saw at
// the tick before, so watchers always have at least one interval to resume.
type Compactor struct {
	kv       *clientv3.Client
	interval time.Duration
	log      *slog.Logger
	last     int64 // revision seen at the previous tick
}

// NewCompactor returns a compactor; Run starts it.
func NewCompactor(kv *clientv3.Client, interval time.Duration, log *slog.Logger) *Compactor {
	return &Compactor{kv: kv, interval: interval, log: log}
}

// Run compacts every interval until ctx ends.
func (c *Compactor) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.Tick(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("etcd compaction failed", "err", err)
			}
		}
	}
}

// Tick compacts to the revision seen at the previous tick and remembers the
// current one.
func (c *Compactor) Tick(ctx context.Context) error {
	resp, err := c.kv.Get(ctx, "compact_rev_key", clientv3.WithCountOnly())
	if err != nil {
		return err
	}
	target := c.last
	c.last = resp.Header.Revision
	if target == 0 {
		return nil
	}
	_, err = c.kv.Compact(ctx, target)
	if errors.Is(err, rpctypes.ErrCompacted) {
		return nil
	}
	if err == nil {
		c.log.Debug("etcd history compacted", "revision", target)
	}
	return err
}
