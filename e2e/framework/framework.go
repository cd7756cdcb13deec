// Package framework holds what the root end-to-end tests share: dependency
// checks that skip (or, in CI, fail), lab nodes that clean up after
// themselves, a containerd client, and waiting on conditions with deadlines.
package framework

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/lab"
)

// Defaults that match hack/lib.sh; the environment can override them.
const (
	defaultContainerdAddress = "/run/nodeagent/containerd/containerd.sock"
	defaultTestImage         = "127.0.0.1:5000/nodeagent/testserver:v1"
	defaultRegistry          = "127.0.0.1:5000"
)

// ContainerdAddress is the socket of nodeagent's containerd.
func ContainerdAddress() string {
	return envOr("NODEAGENT_CONTAINERD_ADDRESS", defaultContainerdAddress)
}

// TestImage is the test image, as served by the local registry.
func TestImage() string { return envOr("NODEAGENT_TEST_IMAGE", defaultTestImage) }

// CNIPluginDirs are searched for CNI plugin binaries.
func CNIPluginDirs() []string { return []string{"/opt/cni/bin", "/usr/lib/cni"} }

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Missing skips the test with the reason, or fails it when CI=true: in CI a
// missing dependency is a failure, never a silent skip.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("missing dependency in CI: %s (run hack/install-deps.sh and hack/images.sh)", reason)
	}
	t.Skipf("skipping: %s (run 'sudo make test' to install what is needed)", reason)
}

// RequireRoot needs root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root for network namespaces, mounts and containerd")
	}
}

// RequireContainerd needs nodeagent's containerd to answer.
func RequireContainerd(t testing.TB) {
	t.Helper()
	c, err := net.DialTimeout("unix", ContainerdAddress(), 2*time.Second)
	if err != nil {
		Missing(t, "containerd is not answering on %s: %v", ContainerdAddress(), err)
		return
	}
	c.Close()
}

// RequireCNIPlugins needs the named plugin binaries.
func RequireCNIPlugins(t testing.TB, plugins ...string) {
	t.Helper()
	for _, p := range plugins {
		if _, err := findPlugin(p); err != nil {
			Missing(t, "%v", err)
		}
	}
}

func findPlugin(name string) (string, error) {
	for _, dir := range CNIPluginDirs() {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("CNI plugin %q not found in %v", name, CNIPluginDirs())
}

// RequireRegistry needs the local registry that serves the test image.
func RequireRegistry(t testing.TB) {
	t.Helper()
	c, err := net.DialTimeout("tcp", defaultRegistry, 2*time.Second)
	if err != nil {
		Missing(t, "no image registry on %s: %v", defaultRegistry, err)
		return
	}
	c.Close()
}

// RequireBinaries needs the named programs on PATH.
func RequireBinaries(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			Missing(t, "%s not on PATH", n)
		}
	}
}

// UniqueName returns prefix plus random hex, short enough for lab names.
func UniqueName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// NewLab creates a lab node that is removed when the test ends, also when
// it fails.
func NewLab(t testing.TB) *lab.Node {
	t.Helper()
	n, err := lab.Up(lab.DefaultConfig(UniqueName("e2e-")))
	if err != nil {
		t.Fatalf("lab up: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Down(); err != nil {
			t.Errorf("lab down: %v", err)
		}
	})
	return n
}

// Eventually calls cond every interval until it returns nil, and fails the
// test with cond's last error once timeout has passed.
func Eventually(t testing.TB, timeout, interval time.Duration, what string, cond func() error) {
	t.Helper()
	if err := Poll(timeout, interval, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Poll calls cond every interval until it returns nil or timeout has passed.
func Poll(timeout, interval time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("not true after %s", timeout), err)
		}
		time.Sleep(interval)
	}
}

// RepoRoot is the root of this repository (where go.mod is).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Binary returns bin/nodeagent, which `make test` builds before the e2e
// tests; it is a missing dependency when it is not there.
func Binary(t testing.TB) string {
	t.Helper()
	p := filepath.Join(RepoRoot(), "bin", "nodeagent")
	if _, err := os.Stat(p); err != nil {
		Missing(t, "%s not built (make build)", p)
	}
	return p
}
