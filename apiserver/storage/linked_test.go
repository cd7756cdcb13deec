package storage

import (
	"context"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// claimLinked makes each config map claim the key named by its "claim"
// data entry: the key must be free (or already the map's) and is released
// when the map stops claiming it.
type claimLinked struct{ prefix string }

func (l claimLinked) Plan(_ context.Context, cur, next runtime.Object) ([]clientv3.Cmp, []clientv3.Op, error) {
	claim := func(o runtime.Object) string {
		if c, ok := o.(*corev1.ConfigMap); ok && c.Data["claim"] != "" {
			return l.prefix + c.Data["claim"]
		}
		return ""
	}
	had, want := claim(cur), claim(next)
	var cmps []clientv3.Cmp
	var ops []clientv3.Op
	if want != "" && want != had {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(want), "=", 0))
		ops = append(ops, clientv3.OpPut(want, "x"))
	}
	if had != "" && had != want {
		ops = append(ops, clientv3.OpDelete(had))
	}
	return cmps, ops, nil
}

func keyExists(t *testing.T, key string) bool {
	t.Helper()
	resp, err := backend.Client.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return len(resp.Kvs) > 0
}

func TestLinkedKeysChangeWithTheObject(t *testing.T) {
	ctx := context.Background()
	s := testStore(t)
	prefix := "/linked/" + t.Name() + "/"
	s.Link(claimLinked{prefix})
	if _, err := s.Create(ctx, "ns", "a", cm("ns", "a", map[string]string{"claim": "k1"})); err != nil {
		t.Fatal(err)
	}
	if !keyExists(t, prefix+"k1") {
		t.Fatal("create did not write the linked key")
	}
	// A second claim of k1 fails as a conflict and writes nothing.
	if _, err := s.Create(ctx, "ns", "b", cm("ns", "b", map[string]string{"claim": "k1"})); !IsConflict(err) {
		t.Fatalf("second claim: %v", err)
	}
	if _, err := s.Get(ctx, "ns", "b"); !IsNotFound(err) {
		t.Fatalf("the refused object was stored: %v", err)
	}
	// A name that exists is still Exists, and leaves no claim behind.
	if _, err := s.Create(ctx, "ns", "a", cm("ns", "a", map[string]string{"claim": "k2"})); !IsExists(err) {
		t.Fatalf("existing name: %v", err)
	}
	if keyExists(t, prefix+"k2") {
		t.Fatal("a failed create left its linked key")
	}
	// Update moves the claim; delete releases it.
	if _, err := s.Update(ctx, "ns", "a", func(cur runtime.Object) (runtime.Object, error) {
		cur.(*corev1.ConfigMap).Data["claim"] = "k2"
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	if keyExists(t, prefix+"k1") || !keyExists(t, prefix+"k2") {
		t.Fatal("update did not move the claim")
	}
	if _, err := s.Delete(ctx, "ns", "a", nil); err != nil {
		t.Fatal(err)
	}
	if keyExists(t, prefix+"k2") {
		t.Fatal("delete did not release the claim")
	}
}
