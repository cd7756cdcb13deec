package storage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
)

// Match selects objects; nil matches everything.
type Match func(obj runtime.Object) bool

// ListOptions shape a list.
type ListOptions struct {
	// Revision to read at; 0 reads the current state. Ignored with Continue.
	// A revision beyond the current one is a TooLargeRV error.
	Revision int64
	// MinRevision: with Revision 0, the current revision must be at least
	// this one (kube's resourceVersionMatch=NotOlderThan), else TooLargeRV.
	MinRevision int64
	// Limit is the most objects to return; 0 returns all.
	Limit int64
	// Continue is the token from the previous page.
	Continue string
	// Match filters objects; the page is filled with matching objects.
	Match Match
	// Hints narrow the list through the watch cache's indexes.
	Hints Hints
	// AnyRevision (resourceVersion="0"): whatever the watch cache holds
	// will do, however old.
	AnyRevision bool
	// Shared: the caller does not modify the items, so the watch cache
	// may hand out the objects it holds rather than copies.
	Shared bool
}

// ListResult is one page.
type ListResult struct {
	Items    []runtime.Object
	Revision int64  // the revision the whole list is read at
	Continue string // the token for the next page; "" when this is the last
}

// token is what a continue token carries: the revision the first page was
// read at and the key to start from.
type token struct {
	Rev   int64  `json:"rv"`
	Start string `json:"start"`
}

func encodeToken(t token) string {
	data, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodeToken(s string) (token, error) {
	var t token
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(data, &t)
	}
	if err != nil || t.Rev <= 0 || t.Start == "" {
		return t, newError(InvalidToken, "", "continue key is not valid: %q", s)
	}
	return t, nil
}

// List returns the objects in namespace ("" for all), one page at a time.
// With a watch cache, a list of the current state (no Revision, no
// Continue) is served from it; etcd carries on from its continue tokens.
func (s *Store) List(ctx context.Context, namespace string, opts ListOptions) (ListResult, error) {
	if c := s.cache.Load(); c != nil && opts.Continue == "" && opts.Revision == 0 {
		if res, ok, err := c.list(ctx, namespace, opts); ok {
			return res, err
		}
	}
	scope := s.scope(namespace)
	start, rev := scope, opts.Revision
	if opts.Continue != "" {
		t, err := decodeToken(opts.Continue)
		if err != nil {
			return ListResult{}, err
		}
		if !strings.HasPrefix(t.Start, scope) {
			return ListResult{}, newError(InvalidToken, "", "continue key does not belong to this list")
		}
		start, rev = t.Start, t.Rev
	}
	res, err := s.listFrom(ctx, scope, start, rev, opts)
	if err == nil && rev == 0 && res.Revision < opts.MinRevision {
		return ListResult{}, tooLargeRV(scope, opts.MinRevision, res.Revision)
	}
	return res, err
}

// listFrom reads batches from start until the page is full or the range ends.
func (s *Store) listFrom(ctx context.Context, scope, start string, rev int64, opts ListOptions) (ListResult, error) {
	end := clientv3.GetPrefixRangeEnd(scope)
	batch := opts.Limit
	if batch > 0 && batch < 50 {
		batch = 50
	}
	var res ListResult
	for {
		kvs, more, readRev, err := s.readBatch(ctx, start, end, rev, batch)
		if err != nil {
			return res, err
		}
		rev, res.Revision = readRev, readRev
		for i, kv := range kvs {
			obj, err := s.decode(kv.Value, kv.ModRevision)
			if err != nil {
				return res, err
			}
			if opts.Match != nil && !opts.Match(obj) {
				continue
			}
			res.Items = append(res.Items, obj)
			if opts.Limit > 0 && int64(len(res.Items)) == opts.Limit {
				if i < len(kvs)-1 || more {
					res.Continue = encodeToken(token{Rev: rev, Start: string(kv.Key) + "\x00"})
				}
				return res, nil
			}
		}
		if !more {
			return res, nil
		}
		start = string(kvs[len(kvs)-1].Key) + "\x00"
	}
}

type keyValue struct {
	Key         []byte
	Value       []byte
	ModRevision int64
}

// readBatch reads up to limit keys in [start, end) at rev (0: current).
func (s *Store) readBatch(ctx context.Context, start, end string, rev, limit int64) ([]keyValue, bool, int64, error) {
	opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(limit)}
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	resp, err := s.kv.Get(ctx, start, opts...)
	if errors.Is(err, rpctypes.ErrCompacted) {
		return nil, false, 0, newError(Expired, start, "The resourceVersion for the provided list is too old.")
	}
	if errors.Is(err, rpctypes.ErrFutureRev) {
		return nil, false, 0, s.futureRev(ctx, start, rev)
	}
	if err != nil {
		return nil, false, 0, fmt.Errorf("storage: list %s: %w", start, err)
	}
	kvs := make([]keyValue, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		kvs[i] = keyValue{kv.Key, kv.Value, kv.ModRevision}
	}
	if rev == 0 {
		rev = resp.Header.Revision
	}
	return kvs, resp.More, rev, nil
}

// futureRev is the TooLargeRV error for a read at rev, with the current
// revision in it.
func (s *Store) futureRev(ctx context.Context, key string, rev int64) error {
	current, err := s.CurrentRevision(ctx)
	if err != nil {
		return err
	}
	return tooLargeRV(key, rev, current)
}
