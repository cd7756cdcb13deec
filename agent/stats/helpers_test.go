package stats

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/fake"
)

// cgroupTree is a fake cgroup v1 tree in a temporary directory: the
// cpuacct and memory hierarchies, with the files V1 reads.
type cgroupTree struct {
	t    *testing.T
	root string
}

func newCgroupTree(t *testing.T) *cgroupTree { return &cgroupTree{t: t, root: t.TempDir()} }

func (c *cgroupTree) write(hier, cgroup, file, content string) {
	c.t.Helper()
	dir := filepath.Join(c.root, hier, cgroup)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// set gives a cgroup its CPU time (ns) and memory (usage, inactive file,
// rss, limit; 0 limit: the kernel's unlimited value).
func (c *cgroupTree) set(cgroup string, cpuNs, usage, inactive, rss, limit uint64) {
	c.t.Helper()
	c.write("cpuacct", cgroup, "cpuacct.usage", fmt.Sprintf("%d\n", cpuNs))
	c.write("memory", cgroup, "memory.usage_in_bytes", fmt.Sprintf("%d\n", usage))
	if limit == 0 {
		limit = 9223372036854771712
	}
	c.write("memory", cgroup, "memory.limit_in_bytes", fmt.Sprintf("%d\n", limit))
	c.write("memory", cgroup, "memory.stat", fmt.Sprintf("cache 1\nrss 2\ntotal_cache 100\ntotal_rss %d\n"+
		"total_pgfault 42\ntotal_pgmajfault 3\ntotal_inactive_file %d\ntotal_active_file 9\n", rss, inactive))
}

// fakeNetwork answers from a table by netns path, and counts its calls.
type fakeNetwork struct {
	mu    sync.Mutex
	byNS  map[string][]Interface
	calls []string
}

func (f *fakeNetwork) Interfaces(ns string) ([]Interface, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, ns)
	ifs, ok := f.byNS[ns]
	if !ok {
		return nil, fmt.Errorf("no netns %q", ns)
	}
	return append([]Interface(nil), ifs...), nil
}

// fixture is a collector over a fake runtime, cgroup tree, network and
// /proc, with two pods: web (two running containers and an exited one)
// and a pod whose sandbox has stopped.
type fixture struct {
	t      *testing.T
	clock  *clocktesting.FakeClock
	rt     *fake.Fake
	tree   *cgroupTree
	net    *fakeNetwork
	c      *Collector
	web    string // web's sandbox ID
	app    string // web's app container ID
	logDir string
}

const boot = 1_796_524_128

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: clocktesting.NewFakeClock(time.Unix(1_800_000_000, 0)), rt: fake.New(),
		tree: newCgroupTree(t), logDir: t.TempDir()}
	f.rt.SetClock(f.clock.Now)
	proc := t.TempDir()
	os.WriteFile(filepath.Join(proc, "stat"), []byte(fmt.Sprintf("cpu  1 2 3\nbtime %d\nprocesses 9\n", boot)), 0o644)
	os.WriteFile(filepath.Join(proc, "meminfo"), []byte("MemTotal:       1000 kB\nMemFree:  10 kB\n"), 0o644)
	os.MkdirAll(filepath.Join(proc, "sys/kernel"), 0o755)
	os.WriteFile(filepath.Join(proc, "sys/kernel/pid_max"), []byte("4194304\n"), 0o644)
	os.WriteFile(filepath.Join(proc, "sys/kernel/threads-max"), []byte("4096\n"), 0o644)
	os.WriteFile(filepath.Join(proc, "loadavg"), []byte("0.10 0.20 0.30 2/321 12345\n"), 0o644)
	f.net = &fakeNetwork{byNS: map[string][]Interface{
		"":               {{Name: "eth0", RxBytes: 1000, TxBytes: 2000}, {Name: "veth1234", RxBytes: 5}, {Name: "cni0", RxBytes: 7}},
		"/run/netns/web": {{Name: "eth0", RxBytes: 300, RxErrors: 1, TxBytes: 400, TxErrors: 2}},
	}}
	cfg := Config{NodeName: "n1", RootDir: t.TempDir(), LogDir: f.logDir,
		PodCgroup: func(uid string) string { return "/nodeagent/n1/pod" + uid }}
	f.c = New(cfg, f.rt, Deps{Cgroups: V1{Root: f.tree.root}, Network: f.net, Host: Proc{Root: proc}}, f.clock)
	f.setup()
	return f
}

func (f *fixture) setup() {
	ctx := context.Background()
	f.rt.AddImage("img")
	f.web = f.sandbox("web-uid", "web", "/run/netns/web")
	f.app = f.container(f.web, "app", true)
	side := f.container(f.web, "side", true)
	done := f.container(f.web, "done", true)
	if err := f.rt.ExitContainer(done, 0, "Completed"); err != nil {
		f.t.Fatal(err)
	}
	gone := f.sandbox("gone-uid", "gone", "/run/netns/gone")
	if err := f.rt.StopPodSandbox(ctx, gone); err != nil {
		f.t.Fatal(err)
	}
	f.tree.set("/", 50e9, 800*1024, 100*1024, 300*1024, 0)
	f.tree.set("/nodeagent/n1/podweb-uid", 3e9, 40<<20, 10<<20, 20<<20, 0)
	f.tree.set("/nodeagent/n1/podweb-uid/"+f.app, 2e9, 30<<20, 10<<20, 15<<20, 64<<20)
	f.tree.set("/nodeagent/n1/podweb-uid/"+side, 1e9, 5<<20, 0, 4<<20, 0)
}

func (f *fixture) sandbox(uid, name, netns string) string {
	f.t.Helper()
	id, err := f.rt.RunPodSandbox(context.Background(), cri.SandboxConfig{Name: name, NetNSPath: netns,
		Labels: map[string]string{cri.LabelPodUID: uid, cri.LabelPodName: name, cri.LabelPodNamespace: "default"}})
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) container(sb, name string, start bool) string {
	f.t.Helper()
	ctx := context.Background()
	logPath := filepath.Join(f.logDir, name+".log")
	os.WriteFile(logPath, []byte("0123456789"), 0o644)
	id, err := f.rt.CreateContainer(ctx, sb, cri.ContainerConfig{Name: name, Image: "img", LogPath: logPath})
	if err == nil && start {
		err = f.rt.StartContainer(ctx, id)
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// removeAll removes every cgroup directory named name in the tree.
func removeAll(root, name string) error {
	dirs, err := filepath.Glob(filepath.Join(root, "*", "nodeagent", "n1", "*", name))
	if err != nil || len(dirs) == 0 {
		return fmt.Errorf("no cgroup %s: %v", name, err)
	}
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	return nil
}
