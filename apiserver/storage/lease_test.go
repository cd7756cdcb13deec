package storage

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
)

func leaseOf(t *testing.T, s *Store, ns, name string) clientv3.LeaseID {
	t.Helper()
	resp, err := backend.Client.Get(context.Background(), s.Key(ns, name))
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("get %s: %v", name, err)
	}
	return clientv3.LeaseID(resp.Kvs[0].Lease)
}

// Objects of an expiring store are written with a lease, on create and on
// update; objects written within the reuse window share one lease, later
// ones get a new lease.
func TestExpiringStoreSharesLeases(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_000_000, 0)
	s := testStore(t)
	s.Expire(time.Hour, NewLeases(backend.Client, func() time.Time { return now }))
	s.Create(ctx, "ns", "a", cm("ns", "a", nil))
	s.Create(ctx, "ns", "b", cm("ns", "b", nil))
	first := leaseOf(t, s, "ns", "a")
	if first == clientv3.NoLease || leaseOf(t, s, "ns", "b") != first {
		t.Fatalf("two events a moment apart: leases %x and %x, want one shared lease", first, leaseOf(t, s, "ns", "b"))
	}
	ttl, err := backend.Client.TimeToLive(ctx, first)
	if err != nil || ttl.GrantedTTL != 3600+60 {
		t.Fatalf("lease TTL %+v (%v), want 1 h plus the 1 min reuse window", ttl, err)
	}
	now = now.Add(61 * time.Second)
	if _, err := s.Update(ctx, "ns", "a", func(o runtime.Object) (runtime.Object, error) {
		o.(interface{ SetLabels(map[string]string) }).SetLabels(map[string]string{"v": "2"})
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	second := leaseOf(t, s, "ns", "a")
	if second == clientv3.NoLease || second == first {
		t.Fatalf("an update after the window: lease %x, want a new one (not %x)", second, first)
	}
	if leaseOf(t, s, "ns", "b") != first {
		t.Fatal("b's lease changed without a write")
	}
}

// An object of an expiring store is deleted once its TTL has passed.
func TestExpiringStoreObjectsExpire(t *testing.T) {
	ctx := context.Background()
	s := testStore(t)
	s.Expire(2*time.Second, NewLeases(backend.Client, time.Now))
	created, err := s.Create(ctx, "ns", "a", cm("ns", "a", nil))
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Watch(ctx, "ns", WatchOptions{Revision: mustRV(t, created)}, WatchLimits{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if e := next(t, w); eventString(e) != "DELETED a" {
		t.Fatalf("got %s, want DELETED a", eventString(e))
	}
}
