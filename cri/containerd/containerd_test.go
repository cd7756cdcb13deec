package containerd_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/conformance"
	crictd "github.com/nodeagent/nodeagent/cri/containerd"
	"github.com/nodeagent/nodeagent/cri/crilogger"
	"github.com/nodeagent/nodeagent/cri/pause"
	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// containerdState is the state directory of nodeagent's containerd
// (hack/config/containerd.toml).
const containerdState = "/run/nodeagent/containerd/state"

// containerdRoot is its root directory (hack/lib.sh).
const containerdRoot = "/var/lib/nodeagent/containerd"

// testImage is built by hack/images.sh and served by the local registry.
const testImage = "127.0.0.1:5000/nodeagent/testserver:v1"

// TestMain lets the test binary (static with CGO_ENABLED=0) serve as the
// sandboxes' pause binary and as the shim's logging binary. The logger gets
// no environment from the shim, so the role is the first argument.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "pause":
			exit(pause.Run())
		case "cri-logger":
			exit(crilogger.Run(os.Args[2:]))
		}
	}
	os.Exit(m.Run())
}

func exit(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func TestConformance(t *testing.T) {
	base := requireContainerd(t)
	var n atomic.Int32
	conformance.Run(t, func(t *testing.T) (cri.Runtime, conformance.Env) {
		cfg, c := isolate(t, base, fmt.Sprint(n.Add(1)))
		// Runtimes a case reopens are closed when it ends, after what it
		// made is removed (cleanups run last-registered first).
		var reopened []*crictd.Runtime
		t.Cleanup(func() {
			for _, rt := range reopened {
				rt.Close()
			}
		})
		return newRuntime(t, cfg), conformance.Env{
			Image:   testImage,
			NetNS:   newNetNS,
			Command: command,
			Reopen: func(t *testing.T) cri.Runtime {
				rt := openRuntime(t, cfg)
				reopened = append(reopened, rt)
				return rt
			},
			AssertClean: func(t *testing.T) { assertClean(t, c, cfg) },
		}
	})
}

// TestLogsOutliveRuntime: logs keep flowing while no Runtime exists, as
// when the agent restarts, because the shim runs the logger.
func TestLogsOutliveRuntime(t *testing.T) {
	cfg, _ := isolate(t, requireContainerd(t), "logs")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt := newRuntime(t, cfg)
	if _, err := rt.PullImage(ctx, testImage, nil); err != nil {
		t.Fatal(err)
	}
	sb, err := rt.RunPodSandbox(ctx, cri.SandboxConfig{Name: "logs", NetNSPath: newNetNS(t)})
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "0.log")
	id, err := rt.CreateContainer(ctx, sb, cri.ContainerConfig{Name: "ticker", Image: testImage, LogPath: logPath,
		Command: []string{"/bin/sh", "-c", "while :; do echo tick; sleep 0.05; done"}})
	if err == nil {
		err = rt.StartContainer(ctx, id)
	}
	if err != nil {
		t.Fatal(err)
	}
	waitLines(t, logPath, 1)
	rt.Close()
	n := waitLines(t, logPath, 1)
	waitLines(t, logPath, n+5)
	if err := newRuntime(t, cfg).RemovePodSandbox(ctx, sb); err != nil {
		t.Fatalf("RemovePodSandbox after reopening: %v", err)
	}
}

// waitLines waits until the file at path has at least n lines, and returns
// how many it has.
func waitLines(t *testing.T, path string, n int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for ; ; <-tick.C {
		data, _ := os.ReadFile(path)
		if got := strings.Count(string(data), "\n"); got >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has fewer than %d lines after 30s", path, n)
		}
	}
}

// isolate returns base with its own containerd namespace, cgroup parent
// and directories, all removed when t ends, and a client for inspection.
func isolate(t *testing.T, base crictd.Config, suffix string) (crictd.Config, *client.Client) {
	cfg := base
	cfg.Namespace = "cri-test-" + randomHex(4) + "-" + suffix
	cfg.DefaultCgroupParent = "/" + cfg.Namespace
	cfg.StateDir, cfg.FIFODir, cfg.RuncRoot = t.TempDir(), t.TempDir(), t.TempDir()
	c := connect(t, cfg.Address)
	t.Cleanup(func() {
		cleanNamespace(t, c, cfg.Namespace)
		// The shim's per-namespace state and root directories outlive the
		// namespace.
		for _, dir := range []string{containerdState, containerdRoot} {
			err := os.Remove(filepath.Join(dir, "io.containerd.runtime.v2.task", cfg.Namespace))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("cleanup: %v", err)
			}
		}
		removeCgroups(t, cfg.DefaultCgroupParent)
	})
	return cfg, c
}

func newRuntime(t *testing.T, cfg crictd.Config) *crictd.Runtime {
	rt := openRuntime(t, cfg)
	t.Cleanup(func() { rt.Close() })
	return rt
}

// openRuntime is a Runtime the caller closes.
func openRuntime(t *testing.T, cfg crictd.Config) *crictd.Runtime {
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rt, err := crictd.New(cfg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return rt
}

// command is what each behaviour runs in the test image.
func command(b conformance.Behaviour) ([]string, []string) {
	switch b.Kind {
	case conformance.IgnoreTerm:
		return []string{"/bin/sh", "-c", "trap '' TERM; sleep 100"}, nil
	case conformance.Exit:
		return []string{"/bin/sh", "-c", fmt.Sprintf("exit %d", b.Code)}, nil
	case conformance.Print:
		return []string{"/bin/sh", "-c", "echo " + shellQuote(b.Stdout) + "; echo " + shellQuote(b.Stderr) + " >&2"}, nil
	case conformance.Hog:
		return []string{"/bin/sh", "-c", "x=$(yes | head -c 1000000000)"}, nil
	case conformance.Cat:
		return []string{"/bin/sh", "-c", "cat; echo bye"}, nil
	case conformance.Shell:
		return []string{"/bin/sh"}, nil
	case conformance.Ticker:
		return []string{"/bin/sh", "-c", "while :; do echo tick; sleep 0.1; done"}, nil
	case conformance.Echo:
		return nil, []string{"serve", "--http", "", "--udp-echo", "", "--tcp-echo", fmt.Sprintf(":%d", b.Port)}
	case conformance.Flood:
		// FloodLine(i), from a shell loop.
		return []string{"/bin/sh", "-c", fmt.Sprintf(`i=0; while [ $i -lt %d ]; do printf 'line %%05d %%s\n' $i %s; i=$((i+1)); done`,
			b.Lines, strings.Repeat("x", 50))}, nil
	}
	return nil, []string{"pause"}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// newNetNS makes a network namespace with only lo, up (as CNI's loopback
// plugin leaves it), for a sandbox.
func newNetNS(t *testing.T) string {
	dir := t.TempDir()
	path, err := nsutil.Create(dir, "netns")
	if err != nil {
		t.Fatalf("create netns: %v", err)
	}
	if err := loUp(path); err != nil {
		t.Fatalf("netns %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := nsutil.Remove(path); err != nil {
			t.Errorf("remove netns: %v", err)
		}
		unix.Unmount(dir, unix.MNT_DETACH) // Create made dir a mount point
	})
	return path
}

func loUp(netnsPath string) error {
	ns, err := netns.GetFromPath(netnsPath)
	if err != nil {
		return err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	return h.LinkSetUp(lo)
}

// requireContainerd returns the config to test with, or skips (fails with
// CI=true) when not root, containerd does not answer or the image is missing.
func requireContainerd(t *testing.T) crictd.Config {
	unavailable := t.Skipf
	if os.Getenv("CI") == "true" {
		unavailable = t.Fatalf
	}
	if os.Geteuid() != 0 {
		unavailable("needs root (containerd, runc, network namespaces)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := crictd.DefaultConfig()
	cfg.PauseBinary, cfg.LoggerBinary = self, self
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.New(cfg.Address)
	if err == nil {
		defer c.Close()
		_, err = c.Version(ctx)
	}
	if err != nil {
		unavailable("containerd does not answer on %s (run 'make deps'): %v", cfg.Address, err)
	}
	hosts := docker.ConfigureDefaultRegistries(docker.WithPlainHTTP(docker.MatchLocalhost))
	if _, _, err := docker.NewResolver(docker.ResolverOptions{Hosts: hosts}).Resolve(ctx, testImage); err != nil {
		unavailable("test image %s is not in the registry (run 'make images'): %v", testImage, err)
	}
	return cfg
}

func connect(t *testing.T, address string) *client.Client {
	c, err := client.New(address)
	if err != nil {
		t.Fatalf("connect to containerd: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// assertClean checks that no task, container or active snapshot is left.
func assertClean(t *testing.T, c *client.Client, cfg crictd.Config) {
	t.Helper()
	ctx := namespaces.WithNamespace(context.Background(), cfg.Namespace)
	cs, err := c.Containers(ctx)
	if err != nil || len(cs) != 0 {
		t.Errorf("containerd containers left: %d, %v", len(cs), err)
	}
	var active []string
	err = c.SnapshotService(cfg.Snapshotter).Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if info.Kind == snapshots.KindActive {
			active = append(active, info.Name)
		}
		return nil
	})
	if err != nil || len(active) != 0 {
		t.Errorf("active snapshots left: %v, %v", active, err)
	}
}

// cleanNamespace removes everything in ns, then ns itself.
func cleanNamespace(t *testing.T, c *client.Client, ns string) {
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), ns), time.Minute)
	defer cancel()
	cs, _ := c.Containers(ctx)
	for _, ctr := range cs {
		if task, err := ctr.Task(ctx, nil); err == nil {
			task.Delete(ctx, client.WithProcessKill)
		}
		if err := ctr.Delete(ctx, client.WithSnapshotCleanup); err != nil {
			t.Errorf("cleanup: delete container %s: %v", ctr.ID(), err)
		}
	}
	imgs, _ := c.ImageService().List(ctx)
	for _, img := range imgs {
		if err := c.ImageService().Delete(ctx, img.Name, images.SynchronousDelete()); err != nil {
			t.Errorf("cleanup: delete image %s: %v", img.Name, err)
		}
	}
	retry(t, ctx, "delete namespace "+ns, func() error {
		if err := c.NamespaceService().Delete(ctx, ns); !errdefs.IsNotFound(err) {
			return err
		}
		return nil
	})
}

// retry calls fn until it succeeds or ctx ends.
func retry(t *testing.T, ctx context.Context, what string, fn func() error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := fn()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Errorf("cleanup: %s: %v", what, err)
			return
		case <-tick.C:
		}
	}
}

// removeCgroups removes the cgroup parent the run used, in every hierarchy.
func removeCgroups(t *testing.T, parent string) {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	roots = append(roots, "/sys/fs/cgroup")
	for _, root := range roots {
		var dirs []string
		filepath.WalkDir(filepath.Join(root, parent), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		slices.Reverse(dirs)
		for _, d := range dirs {
			if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("cleanup: remove cgroup %s: %v", d, err)
			}
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// testWriter sends the runtime's log to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
