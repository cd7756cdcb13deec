package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

// Store holds the objects of one resource under one key prefix.
type Store struct {
	kv     *clientv3.Client
	prefix string // "/registry/pods/", always ending in "/"
	newObj func() runtime.Object
	linked Linked // nil: the objects stand alone
	ttl    time.Duration
	leases *Leases // nil: the objects do not expire
	// onDecode adjusts every object read (nil: nothing to adjust).
	onDecode func(runtime.Object)
	// conv, when set, stores objects in another version's form (nil: as
	// they are).
	conv *Conversion
	// cache serves lists and watches once StartCache ran (nil: etcd
	// does); it is set while the store is in use.
	cache atomic.Pointer[cacher]
}

// OnDecode makes f adjust every object the store reads, as it is decoded
// (the custom resources' apiVersion is the one the store serves).
func (s *Store) OnDecode(f func(runtime.Object)) { s.onDecode = f }

// Expire makes every object written (created or updated) expire ttl after
// the write, through leases from l.
func (s *Store) Expire(ttl time.Duration, l *Leases) { s.ttl, s.leases = ttl, l }

// put is the write of data at key, with a lease when the objects expire.
func (s *Store) put(ctx context.Context, key, data string) (clientv3.Op, error) {
	if s.leases == nil {
		return clientv3.OpPut(key, data), nil
	}
	id, err := s.leases.Get(ctx, s.ttl)
	if err != nil {
		return clientv3.Op{}, err
	}
	return clientv3.OpPut(key, data, clientv3.WithLease(id)), nil
}

// Linked keeps other keys in step with a store's objects: what Plan returns
// joins the transaction that writes the object, so the object and those
// keys change together or not at all (the Services' IP and port
// allocations use it).
type Linked interface {
	// Plan returns the comparisons that must hold and the operations to run
	// when cur (nil on create) becomes next (nil on delete). An error that
	// IsConflict makes an update or delete start again from a fresh read.
	Plan(ctx context.Context, cur, next runtime.Object) ([]clientv3.Cmp, []clientv3.Op, error)
}

// Link makes every write of the store carry l's comparisons and operations.
func (s *Store) Link(l Linked) { s.linked = l }

// Client is the etcd client the store writes through.
func (s *Store) Client() *clientv3.Client { return s.kv }

func (s *Store) plan(ctx context.Context, cur, next runtime.Object) ([]clientv3.Cmp, []clientv3.Op, error) {
	if s.linked == nil {
		return nil, nil, nil
	}
	return s.linked.Plan(ctx, cur, next)
}

// NewStore returns the store of the objects under prefix (for example
// "/registry/pods"); newObj returns an empty object of the resource's type.
func NewStore(kv *clientv3.Client, prefix string, newObj func() runtime.Object) *Store {
	if prefix == "" || prefix[len(prefix)-1] != '/' {
		prefix += "/"
	}
	return &Store{kv: kv, prefix: prefix, newObj: newObj}
}

// Key returns the etcd key of the object; namespace is "" for cluster-scoped
// objects.
func (s *Store) Key(namespace, name string) string {
	if namespace == "" {
		return s.prefix + name
	}
	return s.prefix + namespace + "/" + name
}

// scope returns the key prefix of a namespace, or of all objects for "".
func (s *Store) scope(namespace string) string {
	if namespace == "" {
		return s.prefix
	}
	return s.prefix + namespace + "/"
}

// encode stores the object without its resourceVersion: the revision is the
// version.
func (s *Store) encode(obj runtime.Object) (string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", err
	}
	rv := m.GetResourceVersion()
	m.SetResourceVersion("")
	stored := obj
	if s.conv != nil {
		stored = s.conv.ToStorage(obj)
	}
	data, err := json.Marshal(stored)
	m.SetResourceVersion(rv)
	return string(data), err
}

// Conversion maps a served version onto the stored one: Stored makes an
// empty stored object, ToStorage and FromStorage convert. The store's
// objects are the served version; etcd holds the stored one, which other
// stores of the same prefix read as theirs.
type Conversion struct {
	Stored      func() runtime.Object
	ToStorage   func(runtime.Object) runtime.Object
	FromStorage func(runtime.Object) runtime.Object
}

// Convert makes the store keep its objects in c's stored form.
func (s *Store) Convert(c *Conversion) { s.conv = c }

// decode turns a stored value into an object whose resourceVersion is rev.
func (s *Store) decode(data []byte, rev int64) (runtime.Object, error) {
	obj := s.newObj()
	if s.conv != nil {
		obj = s.conv.Stored()
	}
	if err := json.Unmarshal(data, obj); err != nil {
		return nil, fmt.Errorf("storage: decode: %w", err)
	}
	if s.conv != nil {
		obj = s.conv.FromStorage(obj)
	}
	if s.onDecode != nil {
		s.onDecode(obj)
	}
	setRV(obj, rev)
	return obj, nil
}

func setRV(obj runtime.Object, rev int64) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetResourceVersion(strconv.FormatInt(rev, 10))
	}
}

// RV returns the object's resourceVersion as a revision (0 when unset).
func RV(obj runtime.Object) (int64, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return 0, err
	}
	return ParseRV(m.GetResourceVersion())
}

// ParseRV parses a resourceVersion; "" is 0.
func ParseRV(rv string) (int64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid resource version %q", rv)
	}
	return n, nil
}

// Create stores obj at (namespace, name) if nothing is there, and returns it
// with its new resourceVersion.
func (s *Store) Create(ctx context.Context, namespace, name string, obj runtime.Object) (runtime.Object, error) {
	key := s.Key(namespace, name)
	data, err := s.encode(obj)
	if err != nil {
		return nil, err
	}
	cmps, ops, err := s.plan(ctx, nil, obj)
	if err != nil {
		return nil, err
	}
	put, err := s.put(ctx, key, data)
	if err != nil {
		return nil, err
	}
	resp, err := s.kv.Txn(ctx).
		If(append([]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)}, cmps...)...).
		Then(append([]clientv3.Op{put}, ops...)...).
		Else(clientv3.OpGet(key, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return nil, writeError("create", key, err)
	}
	if !resp.Succeeded {
		if len(cmps) > 0 && resp.Responses[0].GetResponseRange().Count == 0 {
			return nil, newError(Conflict, key, "a key linked to %s changed meanwhile", key)
		}
		return nil, newError(Exists, key, "%s already exists", key)
	}
	out := obj.DeepCopyObject()
	setRV(out, resp.Header.Revision)
	return out, nil
}

// Get returns the object at (namespace, name).
func (s *Store) Get(ctx context.Context, namespace, name string) (runtime.Object, error) {
	return s.GetNotOlderThan(ctx, namespace, name, 0)
}

// GetNotOlderThan returns the object at (namespace, name), read at a
// revision of at least min (kube's get with resourceVersion=min): a min
// beyond the current revision is a TooLargeRV error.
func (s *Store) GetNotOlderThan(ctx context.Context, namespace, name string, min int64) (runtime.Object, error) {
	key := s.Key(namespace, name)
	resp, err := s.kv.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("storage: get %s: %w", key, err)
	}
	if resp.Header.Revision < min {
		return nil, tooLargeRV(key, min, resp.Header.Revision)
	}
	if len(resp.Kvs) == 0 {
		return nil, newError(NotFound, key, "%s not found", key)
	}
	return s.decode(resp.Kvs[0].Value, resp.Kvs[0].ModRevision)
}

// UpdateFunc computes the new object from the current one (a copy the
// function may modify). Returning an error aborts the update with that error.
type UpdateFunc func(current runtime.Object) (runtime.Object, error)

// Update applies fn to the current object and writes the result if the
// object did not change in between; otherwise it reads again and retries, so
// fn must decide on preconditions (such as a resourceVersion from the client)
// by looking at the current object it is given.
func (s *Store) Update(ctx context.Context, namespace, name string, fn UpdateFunc) (runtime.Object, error) {
	key := s.Key(namespace, name)
	for {
		cur, err := s.Get(ctx, namespace, name)
		if err != nil {
			return nil, err
		}
		curRV, _ := RV(cur)
		next, err := fn(cur.DeepCopyObject())
		if err != nil {
			return nil, err
		}
		if same, err := s.unchanged(cur, next); err != nil || same {
			return cur, err // as kube-apiserver: no write, no new resourceVersion, no event
		}
		out, ok, err := s.swap(ctx, key, cur, curRV, next)
		if err != nil || ok {
			return out, err
		}
	}
}

// unchanged says whether next would store the same bytes as cur.
func (s *Store) unchanged(cur, next runtime.Object) (bool, error) {
	a, err := s.encode(cur)
	if err != nil {
		return false, err
	}
	b, err := s.encode(next)
	return err == nil && a == b, err
}

// swap writes next at key if the key's mod revision is still rev (and the
// linked keys are as planned); a linked conflict is reported as not written.
func (s *Store) swap(ctx context.Context, key string, cur runtime.Object, rev int64, next runtime.Object) (runtime.Object, bool, error) {
	data, err := s.encode(next)
	if err != nil {
		return nil, false, err
	}
	cmps, ops, err := s.plan(ctx, cur, next)
	if IsConflict(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	put, err := s.put(ctx, key, data)
	if err != nil {
		return nil, false, err
	}
	resp, err := s.kv.Txn(ctx).
		If(append([]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", rev)}, cmps...)...).
		Then(append([]clientv3.Op{put}, ops...)...).
		Commit()
	if err != nil {
		return nil, false, writeError("update", key, err)
	}
	if !resp.Succeeded {
		return nil, false, nil
	}
	out := next.DeepCopyObject()
	setRV(out, resp.Header.Revision)
	return out, true, nil
}

// Precondition inspects the current object before a delete; an error stops it.
type Precondition func(current runtime.Object) error

// Delete removes the object if check (which may be nil) accepts the current
// state, and returns the object as it was.
func (s *Store) Delete(ctx context.Context, namespace, name string, check Precondition) (runtime.Object, error) {
	key := s.Key(namespace, name)
	for {
		cur, err := s.Get(ctx, namespace, name)
		if err != nil {
			return nil, err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return nil, err
			}
		}
		rev, _ := RV(cur)
		cmps, ops, err := s.plan(ctx, cur, nil)
		if IsConflict(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		resp, err := s.kv.Txn(ctx).
			If(append([]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", rev)}, cmps...)...).
			Then(append([]clientv3.Op{clientv3.OpDelete(key)}, ops...)...).
			Commit()
		if err != nil {
			return nil, fmt.Errorf("storage: delete %s: %w", key, err)
		}
		if resp.Succeeded {
			setRV(cur, resp.Header.Revision)
			return cur, nil
		}
	}
}

// CurrentRevision returns etcd's current revision.
func (s *Store) CurrentRevision(ctx context.Context) (int64, error) {
	resp, err := s.kv.Get(ctx, s.prefix, clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("storage: revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// writeError wraps a failed write; a value over etcd's request size limit
// is TooLarge (the client's object, not a server fault).
func writeError(op, key string, err error) error {
	if errors.Is(err, rpctypes.ErrRequestTooLarge) {
		return newError(TooLarge, key, "%s: %v", key, err)
	}
	return fmt.Errorf("storage: %s %s: %w", op, key, err)
}
