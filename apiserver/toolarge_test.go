package apiserver

import (
	"strings"
	"testing"
)

// An object bigger than etcd stores in one request (1.5 MiB) but within the
// 3 MiB body limit is the client's fault: 413, not 500.
func TestObjectTooBigForEtcdIs413(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c, host := rawClient(t, ts)
	pods := host + "/api/v1/namespaces/default/pods"
	pod := func(name, value string) []byte {
		return []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},"spec":{"containers":[{"name":"c","image":"i","env":[{"name":"X","value":"` + value + `"}]}]}}`)
	}
	code, st, _ := do(t, c, "POST", pods, "application/json", pod("big", strings.Repeat("a", 2<<20)))
	if code != 413 || st.Reason != "RequestEntityTooLarge" || !strings.Contains(st.Message, "etcdserver: request is too large") {
		t.Errorf("create: %d %+v, want 413", code, st)
	}
	if code, _, _ := do(t, c, "POST", pods, "application/json", pod("small", "a")); code != 201 {
		t.Fatalf("create small: %d", code)
	}
	patch := []byte(`{"status":{"message":"` + strings.Repeat("b", 2<<20) + `"}}`)
	code, st, _ = do(t, c, "PATCH", pods+"/small/status", "application/merge-patch+json", patch)
	if code != 413 || st.Reason != "RequestEntityTooLarge" {
		t.Errorf("patch: %d %+v, want 413", code, st)
	}
}
