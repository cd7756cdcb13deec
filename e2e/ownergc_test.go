//go:build linux && e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// TestCascadingDeletion: the server's garbage collector with kubectl
// delete --cascade=background|foreground|orphan, on core objects only (a
// ConfigMap owning a ConfigMap and a pod; no agent, so the pods are never
// scheduled and go at once when deleted).
func TestCascadingDeletion(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "default service account", func() error {
		_, errOut, err := k.run("", "get", "serviceaccount", "default")
		if err != nil {
			return fmt.Errorf("%v: %s", err, errOut)
		}
		return nil
	})

	t.Run("background", func(t *testing.T) {
		k.t = t
		uid := ownerCM(k, "owner-bg")
		k.ok(dependents("bg", "owner-bg", uid, false, ""), "apply", "-f", "-")
		if out := k.ok("", "delete", "configmap", "owner-bg", "--cascade=background"); squash(out) != `configmap "owner-bg" deleted` {
			t.Fatalf("delete: %q", out)
		}
		gone(t, k, "configmap/dep-bg", "pod/pod-bg")
	})

	t.Run("foreground", func(t *testing.T) {
		k.t = t
		uid := ownerCM(k, "owner-fg")
		// The dependent holds a finalizer of its own, so that the owner
		// is seen waiting for it.
		k.ok(dependents("fg", "owner-fg", uid, true, "example.com/hold"), "apply", "-f", "-")
		k.ok("", "delete", "configmap", "owner-fg", "--cascade=foreground", "--wait=false")
		framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "the blocking dependent being deleted", func() error {
			if ts := k.ok("", "get", "configmap", "dep-fg", "-o", "jsonpath={.metadata.deletionTimestamp}"); ts == "" {
				return fmt.Errorf("dep-fg not being deleted")
			}
			return nil
		})
		gone(t, k, "pod/pod-fg")
		fin := k.ok("", "get", "configmap", "owner-fg", "-o", "jsonpath={.metadata.deletionTimestamp} {.metadata.finalizers}")
		if !strings.HasSuffix(fin, ` ["foregroundDeletion"]`) || strings.HasPrefix(fin, " ") {
			t.Fatalf("owner while its dependent stays: %q, want deleting with the foregroundDeletion finalizer", fin)
		}
		k.ok("", "patch", "configmap", "dep-fg", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
		gone(t, k, "configmap/dep-fg", "configmap/owner-fg")
	})

	t.Run("orphan", func(t *testing.T) {
		k.t = t
		uid := ownerCM(k, "owner-or")
		k.ok(dependents("or", "owner-or", uid, true, ""), "apply", "-f", "-")
		// kubectl waits for the owner to go: the collector removes the
		// orphan finalizer after the dependents' references.
		if out := k.ok("", "delete", "configmap", "owner-or", "--cascade=orphan"); squash(out) != `configmap "owner-or" deleted` {
			t.Fatalf("delete: %q", out)
		}
		gone(t, k, "configmap/owner-or")
		for _, obj := range []string{"configmap/dep-or", "pod/pod-or"} {
			if refs := k.ok("", "get", obj, "-o", "jsonpath={.metadata.ownerReferences}"); refs != "" {
				t.Errorf("%s kept its owner: %s", obj, refs)
			}
		}
		k.ok("", "delete", "configmap", "dep-or")
		k.ok("", "delete", "pod", "pod-or")
	})

	t.Run("same name, other UID", func(t *testing.T) {
		k.t = t
		ownerCM(k, "owner-re")
		k.ok(dependents("re", "owner-re", "00000000-0000-0000-0000-000000000001", false, ""), "apply", "-f", "-")
		gone(t, k, "configmap/dep-re", "pod/pod-re")
		k.ok("", "get", "configmap", "owner-re")
	})
}

// ownerCM creates a ConfigMap and returns its UID.
func ownerCM(k *kctl, name string) string {
	k.t.Helper()
	k.ok("", "create", "configmap", name)
	return k.ok("", "get", "configmap", name, "-o", "jsonpath={.metadata.uid}")
}

// dependents is a ConfigMap dep-<s> and a pod pod-<s> owned by owner.
func dependents(s, owner, uid string, block bool, finalizer string) string {
	ref := fmt.Sprintf(`[{apiVersion: v1, kind: ConfigMap, name: %s, uid: %s, blockOwnerDeletion: %t}]`, owner, uid, block)
	fin := "[]"
	if finalizer != "" {
		fin = "[" + finalizer + "]"
	}
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: dep-%[1]s, ownerReferences: %[2]s, finalizers: %[3]s}
---
apiVersion: v1
kind: Pod
metadata: {name: pod-%[1]s, ownerReferences: %[2]s}
spec:
  containers: [{name: c, image: 127.0.0.1:5000/nodeagent/testserver:v1}]
`, s, ref, fin)
}

// gone waits until kubectl says each object is not found.
func gone(t *testing.T, k *kctl, objs ...string) {
	t.Helper()
	for _, obj := range objs {
		framework.Eventually(t, 60*time.Second, 200*time.Millisecond, obj+" deleted", func() error {
			out, errOut, err := k.run("", "get", obj, "-o", "name")
			if err == nil || !strings.Contains(errOut, "NotFound") {
				return fmt.Errorf("still there: %s %s", out, errOut)
			}
			return nil
		})
	}
}
