package allocator

import (
	"context"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
)

// RepairReport counts what Repair changed and what it could not.
type RepairReport struct {
	// Added: keys of a stored service that were missing (data written
	// before the table existed).
	Added int
	// Removed: keys no stored service holds.
	Removed int
	// Duplicates: items two stored services claim; they are left to the
	// first holder and reported.
	Duplicates []string
}

// Repair makes the table agree with the stored services. Every write is a
// compare-and-swap on both the allocation key and the service's key, so it
// is safe beside other servers on the same etcd. serviceKey is the
// services store's key of (namespace, name).
func (e *Etcd) Repair(ctx context.Context, services []*corev1.Service, serviceKey func(ns, name string) string) (RepairReport, error) {
	var rep RepairReport
	state, err := e.list(ctx, "")
	if err != nil {
		return rep, err
	}
	byOwner := map[string]*corev1.Service{}
	for _, s := range services {
		byOwner[ownerOf(s)] = s
		for _, k := range Held(s) {
			if err := e.repairHeld(ctx, s, k, state, serviceKey, &rep); err != nil {
				return rep, err
			}
		}
	}
	for k, h := range state {
		if err := e.repairOrphan(ctx, k, h, byOwner[h.owner], serviceKey, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (e *Etcd) repairHeld(ctx context.Context, s *corev1.Service, k Key, state map[Key]holder, serviceKey func(ns, name string) string, rep *RepairReport) error {
	if h, ok := state[k]; ok {
		if h.owner != ownerOf(s) {
			rep.Duplicates = append(rep.Duplicates, fmt.Sprintf("%s: held by %s, also claimed by %s", k, h.owner, ownerOf(s)))
		}
		return nil
	}
	ok, err := e.commit(ctx, "add "+string(k),
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(e.key(k)), "=", 0), serviceAt(serviceKey(s.Namespace, s.Name), s)},
		clientv3.OpPut(e.key(k), ownerOf(s)))
	if ok {
		rep.Added++
		state[k] = holder{owner: ownerOf(s)}
	}
	return err
}

// repairOrphan deletes k when its holder (s, nil if not stored) does not
// hold it, if neither changed since they were read.
func (e *Etcd) repairOrphan(ctx context.Context, k Key, h holder, s *corev1.Service, serviceKey func(ns, name string) string, rep *RepairReport) error {
	if s != nil && holds(s, k) {
		return nil
	}
	if h.rev == 0 {
		return nil // added by this repair
	}
	var svcCmp clientv3.Cmp
	if s == nil {
		ns, name := splitOwner(h.owner)
		svcCmp = clientv3.Compare(clientv3.CreateRevision(serviceKey(ns, name)), "=", 0)
	} else {
		svcCmp = serviceAt(serviceKey(s.Namespace, s.Name), s)
	}
	ok, err := e.commit(ctx, "remove "+string(k),
		[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(e.key(k)), "=", h.rev), svcCmp}, clientv3.OpDelete(e.key(k)))
	if ok {
		rep.Removed++
	}
	return err
}

func (e *Etcd) commit(ctx context.Context, what string, cmps []clientv3.Cmp, op clientv3.Op) (bool, error) {
	resp, err := e.kv.Txn(ctx).If(cmps...).Then(op).Commit()
	if err != nil {
		return false, fmt.Errorf("allocator: repair: %s: %w", what, err)
	}
	return resp.Succeeded, nil
}

func serviceAt(key string, s *corev1.Service) clientv3.Cmp {
	rv, _ := strconv.ParseInt(s.ResourceVersion, 10, 64)
	return clientv3.Compare(clientv3.ModRevision(key), "=", rv)
}

func holds(s *corev1.Service, k Key) bool {
	for _, h := range Held(s) {
		if h == k {
			return true
		}
	}
	return false
}

func splitOwner(owner string) (string, string) {
	for i := range len(owner) {
		if owner[i] == '/' {
			return owner[:i], owner[i+1:]
		}
	}
	return "", owner
}
