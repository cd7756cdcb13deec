package allocator

import (
	"context"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// DefaultPrefix is where the allocations live in etcd: one key per held
// item, /registry/serviceallocations/ip/10.96.0.10, its value the holder's
// "namespace/name".
const DefaultPrefix = "/registry/serviceallocations/"

// Etcd is the allocation table in etcd. It is the View the Assigner asks,
// and the storage.Linked of the services store, which puts its Plan into
// the transaction that writes each service.
type Etcd struct {
	kv     *clientv3.Client
	prefix string
}

var (
	_ View           = &Etcd{}
	_ storage.Linked = &Etcd{}
)

// NewEtcd returns the table under prefix (DefaultPrefix unless a test
// wants another).
func NewEtcd(kv *clientv3.Client, prefix string) *Etcd {
	return &Etcd{kv: kv, prefix: prefix}
}

func (e *Etcd) key(k Key) string { return e.prefix + string(k) }

// Owner reads who holds k.
func (e *Etcd) Owner(ctx context.Context, k Key) (string, error) {
	resp, err := e.kv.Get(ctx, e.key(k))
	if err != nil {
		return "", fmt.Errorf("allocator: read %s: %w", k, err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

// List reads every held key under prefix.
func (e *Etcd) List(ctx context.Context, prefix string) (map[Key]string, error) {
	held, err := e.list(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make(map[Key]string, len(held))
	for k, h := range held {
		out[k] = h.owner
	}
	return out, nil
}

type holder struct {
	owner string
	rev   int64 // the key's mod revision
}

func (e *Etcd) list(ctx context.Context, prefix string) (map[Key]holder, error) {
	resp, err := e.kv.Get(ctx, e.prefix+prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("allocator: list %s: %w", prefix, err)
	}
	out := make(map[Key]holder, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out[Key(strings.TrimPrefix(string(kv.Key), e.prefix))] = holder{string(kv.Value), kv.ModRevision}
	}
	return out, nil
}

// Plan makes the allocation keys follow a service write: the keys next
// holds must be free or already its own, the ones only cur held are
// deleted. A key another service holds is a conflict (the caller assigns
// again). Non-services pass through.
func (e *Etcd) Plan(ctx context.Context, cur, next runtime.Object) ([]clientv3.Cmp, []clientv3.Op, error) {
	curS, _ := cur.(*corev1.Service)
	nextS, _ := next.(*corev1.Service)
	if curS == nil && nextS == nil {
		return nil, nil, nil
	}
	owner := ownerOf(firstNonNil(nextS, curS))
	want, had := Held(nextS), Held(curS)
	state, err := e.read(ctx, append(slicesClone(want), had...))
	if err != nil {
		return nil, nil, err
	}
	var cmps []clientv3.Cmp
	var ops []clientv3.Op
	wanted, held := map[Key]bool{}, map[Key]bool{}
	for _, k := range had {
		held[k] = true
	}
	for _, k := range want {
		wanted[k] = true
		h, ok := state[k]
		switch {
		case !ok:
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(e.key(k)), "=", 0))
			ops = append(ops, clientv3.OpPut(e.key(k), owner))
		case h.owner == owner:
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(e.key(k)), "=", h.rev))
		case held[k]:
			// A duplicate from before the table (Repair reports it): the
			// stored version already claims it; leave it be.
		default:
			return nil, nil, storage.NewConflict(e.key(k), fmt.Sprintf("%s is held by %s", k, h.owner))
		}
	}
	for _, k := range had {
		if h, ok := state[k]; ok && !wanted[k] && h.owner == owner {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(e.key(k)), "=", h.rev))
			ops = append(ops, clientv3.OpDelete(e.key(k)))
		}
	}
	return cmps, ops, nil
}

// read gets keys in one round trip.
func (e *Etcd) read(ctx context.Context, keys []Key) (map[Key]holder, error) {
	out := map[Key]holder{}
	if len(keys) == 0 {
		return out, nil
	}
	gets := make([]clientv3.Op, len(keys))
	for i, k := range keys {
		gets[i] = clientv3.OpGet(e.key(k))
	}
	resp, err := e.kv.Txn(ctx).Then(gets...).Commit()
	if err != nil {
		return nil, fmt.Errorf("allocator: read allocations: %w", err)
	}
	for i, r := range resp.Responses {
		if kvs := r.GetResponseRange().Kvs; len(kvs) > 0 {
			out[keys[i]] = holder{string(kvs[0].Value), kvs[0].ModRevision}
		}
	}
	return out, nil
}

func firstNonNil(a, b *corev1.Service) *corev1.Service {
	if a != nil {
		return a
	}
	return b
}

func slicesClone(k []Key) []Key { return append([]Key(nil), k...) }
