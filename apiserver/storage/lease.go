package storage

import (
	"context"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Leases hands out etcd leases for objects that expire (Events, after
// kube-apiserver's --event-ttl). As kube-apiserver's lease manager does, it
// reuses one lease for the objects written within a short window, so that
// not every object makes a lease: a lease is granted for the TTL plus the
// window (5% of the TTL, at most a minute) and is reused while it expires
// no earlier than the TTL and no later than TTL plus the window from now,
// for at most 1,000 objects. An object thus lives between TTL and TTL plus
// the window.
type Leases struct {
	kv  *clientv3.Client
	now func() time.Time

	mu       sync.Mutex
	id       clientv3.LeaseID
	expires  time.Time
	attached int
}

const (
	leaseReuseMax      = 60 * time.Second
	leaseReuseFraction = 0.05
	leaseMaxObjects    = 1000
)

// NewLeases returns a lease manager on kv.
func NewLeases(kv *clientv3.Client, now func() time.Time) *Leases {
	return &Leases{kv: kv, now: now}
}

// Get returns a lease that expires between ttl and ttl plus the reuse
// window from now.
func (l *Leases) Get(ctx context.Context, ttl time.Duration) (clientv3.LeaseID, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	window := min(time.Duration(leaseReuseFraction*float64(ttl)), leaseReuseMax)
	l.attached++
	if now.Add(ttl).Before(l.expires) && !now.Add(ttl+window).Before(l.expires) && l.attached <= leaseMaxObjects {
		return l.id, nil
	}
	seconds := int64((ttl + window + time.Second - 1) / time.Second)
	resp, err := l.kv.Grant(ctx, seconds)
	if err != nil {
		return 0, fmt.Errorf("storage: grant a %ds lease: %w", seconds, err)
	}
	l.id, l.expires, l.attached = resp.ID, now.Add(time.Duration(seconds)*time.Second), 1
	return l.id, nil
}
