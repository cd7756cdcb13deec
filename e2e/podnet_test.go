//go:build linux && e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/nodeagent/nodeagent/cni"
	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/lab"
)

// TestPodNetworkGround proves the ground every later feature stands on: in a
// lab node, a pod network namespace attached by the real CNI plugins, the
// test image run by the real containerd and runc inside it, its HTTP server
// reached from the lab node, and a teardown that leaves nothing behind.
func TestPodNetworkGround(t *testing.T) {
	framework.RequireRoot(t)
	framework.RequireContainerd(t)
	framework.RequireRegistry(t)
	framework.RequireCNIPlugins(t, "bridge", "host-local", "portmap", "loopback")
	framework.RequireBinaries(t, "runc", "iptables-save")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	node := framework.NewLab(t)
	env := newPodEnv(t, ctx, node)

	ips := env.attach(ctx)
	env.runTestImage(ctx)

	url := fmt.Sprintf("http://%s/hostname", netip.AddrPortFrom(ips[0].Addr(), 8080))
	var answer string
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, "GET "+url+" from the lab node", func() error {
		var err error
		answer, err = env.get(ctx, url)
		return err
	})
	if strings.TrimSpace(answer) != env.hostname {
		t.Fatalf("GET %s = %q, want the pod's hostname %q", url, answer, env.hostname)
	}

	env.teardown(ctx)
	env.assertNothingLeft(ctx)
}

// podEnv is one pod's worth of real resources and where they live.
type podEnv struct {
	t         *testing.T
	node      *lab.Node
	client    *containerd.Client
	ns        string // containerd namespace, unique to this test
	id        string // container and sandbox ID
	hostname  string
	netnsPath string
	network   *cni.Network
	cniCfg    cni.Config
	dataDir   string // host-local reservations
	att       cni.Attachment
	task      containerd.Task
	exited    <-chan containerd.ExitStatus
}

func newPodEnv(t *testing.T, ctx context.Context, node *lab.Node) *podEnv {
	client, err := containerd.New(framework.ContainerdAddress())
	if err != nil {
		t.Fatalf("connect to containerd: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	e := &podEnv{t: t, node: node, client: client, ns: framework.UniqueName("e2e-"),
		id: framework.UniqueName("pod-"), hostname: "ground-pod"}
	e.dataDir = filepath.Join(node.StateDir(), "cni", "networks")
	e.cniCfg = cni.Config{
		ConfDir:    filepath.Join(node.StateDir(), "cni", "net.d"),
		PluginDirs: framework.CNIPluginDirs(),
		CacheDir:   filepath.Join(node.StateDir(), "cni", "cache"),
		HostNetNS:  node.NetNSPath(),
	}
	wrote, err := cni.WriteDefaultIfMissing(e.cniCfg.ConfDir, cni.BridgeOptions{
		PodCIDR: netip.MustParsePrefix("10.244.0.0/24"), DataDir: e.dataDir})
	if err != nil || !wrote {
		t.Fatalf("write default conflist: wrote=%v err=%v", wrote, err)
	}
	if e.network, err = cni.Load(e.cniCfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.cleanupContainerd)
	return e
}

func (e *podEnv) ctx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, e.ns)
}

// attach creates the pod's namespace and runs CNI ADD for it.
func (e *podEnv) attach(ctx context.Context) []netip.Prefix {
	var err error
	if e.netnsPath, err = e.node.NewMemberNetNS(e.id); err != nil {
		e.t.Fatalf("create pod netns: %v", err)
	}
	e.att = cni.Attachment{ContainerID: e.id, NetNS: e.netnsPath, PodNamespace: "default",
		PodName: e.hostname, PodUID: "00000000-0000-0000-0000-000000000001"}
	ips, err := e.network.Add(ctx, e.att)
	if err != nil {
		e.t.Fatalf("CNI ADD: %v", err)
	}
	if len(ips) == 0 || !netip.MustParsePrefix("10.244.0.0/24").Contains(ips[0].Addr()) {
		e.t.Fatalf("CNI ADD gave %v, want an address in 10.244.0.0/24", ips)
	}
	if err := e.network.Check(ctx, e.att); err != nil {
		e.t.Errorf("CNI CHECK right after ADD: %v", err)
	}
	e.t.Logf("pod %s has %v", e.id, ips)
	return ips
}

// runTestImage pulls the test image from the local registry (a real pull)
// and starts it in the pod's network namespace.
func (e *podEnv) runTestImage(ctx context.Context) {
	ctx = e.ctx(ctx)
	resolver := docker.NewResolver(docker.ResolverOptions{
		Hosts: docker.ConfigureDefaultRegistries(docker.WithPlainHTTP(docker.MatchLocalhost)),
	})
	img, err := e.client.Pull(ctx, framework.TestImage(), containerd.WithPullUnpack, containerd.WithResolver(resolver))
	if err != nil {
		e.t.Fatalf("pull %s: %v", framework.TestImage(), err)
	}
	c, err := e.client.NewContainer(ctx, e.id,
		containerd.WithImage(img),
		containerd.WithNewSnapshot(e.id, img),
		containerd.WithNewSpec(oci.WithImageConfig(img), oci.WithHostname(e.hostname),
			oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: e.netnsPath})))
	if err != nil {
		e.t.Fatalf("create container: %v", err)
	}
	logPath := filepath.Join(e.t.TempDir(), "container.log")
	if e.task, err = c.NewTask(ctx, cio.LogFile(logPath)); err != nil {
		e.t.Fatalf("create task: %v", err)
	}
	if e.exited, err = e.task.Wait(ctx); err != nil {
		e.t.Fatalf("wait task: %v", err)
	}
	if err := e.task.Start(ctx); err != nil {
		e.t.Fatalf("start task: %v", err)
	}
	e.t.Cleanup(func() {
		if e.t.Failed() {
			out, _ := os.ReadFile(logPath)
			e.t.Logf("container log:\n%s", out)
		}
	})
}

// get fetches url over a connection made inside the lab node.
func (e *podEnv) get(ctx context.Context, url string) (string, error) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: e.node.DialContext}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s", resp.Status)
	}
	return string(body), err
}

// teardown stops the container, removes it with its snapshot, runs CNI DEL
// and removes the pod namespace, in the order a kubelet would.
func (e *podEnv) teardown(ctx context.Context) {
	cctx := e.ctx(ctx)
	if err := e.task.Kill(cctx, syscall.SIGTERM); err != nil {
		e.t.Fatalf("kill task: %v", err)
	}
	select {
	case st := <-e.exited:
		e.t.Logf("container exited with %d", st.ExitCode())
	case <-time.After(30 * time.Second):
		e.t.Fatal("container did not exit within 30s of SIGTERM")
	}
	if _, err := e.task.Delete(cctx); err != nil {
		e.t.Fatalf("delete task: %v", err)
	}
	c, err := e.client.LoadContainer(cctx, e.id)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := c.Delete(cctx, containerd.WithSnapshotCleanup); err != nil {
		e.t.Fatalf("delete container: %v", err)
	}
	if err := e.network.Del(ctx, e.att); err != nil {
		e.t.Fatalf("CNI DEL: %v", err)
	}
	if err := removeNetNS(e.netnsPath); err != nil {
		e.t.Fatal(err)
	}
}

func removeNetNS(path string) error {
	if err := syscall.Unmount(path, syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	return os.Remove(path)
}

// assertNothingLeft checks every kind of resource the pod used.
func (e *podEnv) assertNothingLeft(ctx context.Context) {
	if _, err := os.Stat(e.netnsPath); !os.IsNotExist(err) {
		e.t.Errorf("pod netns %s still exists (%v)", e.netnsPath, err)
	}
	links, err := e.node.Links()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, l := range links {
		if l.Type() == "veth" {
			e.t.Errorf("veth %s left in the lab node", l.Attrs().Name)
		}
	}
	e.assertNoReservations()
	if entries, _ := os.ReadDir(filepath.Join(e.cniCfg.CacheDir, "results")); len(entries) > 0 {
		e.t.Errorf("CNI cache still has %d results", len(entries))
	}
	e.assertNoPodRules()
	cctx := e.ctx(ctx)
	if _, err := e.client.LoadContainer(cctx, e.id); !errdefs.IsNotFound(err) {
		e.t.Errorf("containerd container %s still exists (%v)", e.id, err)
	}
	if _, err := e.client.SnapshotService("").Stat(cctx, e.id); !errdefs.IsNotFound(err) {
		e.t.Errorf("snapshot %s still exists (%v)", e.id, err)
	}
}

// assertNoReservations checks that host-local holds no address any more:
// only its lock and last-reserved-ip bookkeeping may remain.
func (e *podEnv) assertNoReservations() {
	dir := filepath.Join(e.dataDir, cni.DefaultNetworkName)
	entries, err := os.ReadDir(dir)
	if err != nil {
		e.t.Fatalf("read host-local dir: %v", err)
	}
	for _, en := range entries {
		if _, err := netip.ParseAddr(en.Name()); err == nil {
			e.t.Errorf("host-local still reserves %s", en.Name())
		}
	}
}

// perPodChain matches the per-attachment chains of bridge (ipMasq) and portmap.
var perPodChain = regexp.MustCompile(`(?m)^:(CNI-[0-9a-f]{24}|CNI-DN-[0-9a-f]+|CNI-SN-[0-9a-f]+) `)

func (e *podEnv) assertNoPodRules() {
	cmd := exec.Command("iptables-save", "-t", "nat")
	var out strings.Builder
	cmd.Stdout = &out
	if err := e.node.Run(cmd); err != nil {
		e.t.Fatalf("iptables-save in the lab node: %v", err)
	}
	if m := perPodChain.FindAllString(out.String(), -1); len(m) > 0 {
		e.t.Errorf("per-pod iptables chains left in the lab node: %v", m)
	}
}

// cleanupContainerd removes whatever the test left in containerd, then the
// test image and the test's own namespace.
func (e *podEnv) cleanupContainerd() {
	ctx := e.ctx(context.Background())
	if cs, err := e.client.Containers(ctx); err == nil {
		for _, c := range cs {
			if task, err := c.Task(ctx, nil); err == nil {
				task.Delete(ctx, containerd.WithProcessKill)
			}
			c.Delete(ctx, containerd.WithSnapshotCleanup)
		}
	}
	if err := e.client.ImageService().Delete(ctx, framework.TestImage(), images.SynchronousDelete()); err != nil && !errdefs.IsNotFound(err) {
		e.t.Errorf("delete image: %v", err)
	}
	err := framework.Poll(30*time.Second, 200*time.Millisecond, func() error {
		return e.client.NamespaceService().Delete(ctx, e.ns)
	})
	if err != nil {
		e.t.Errorf("delete containerd namespace %s: %v", e.ns, err)
	}
	framework.RemoveNamespaceState(e.ns)
}
