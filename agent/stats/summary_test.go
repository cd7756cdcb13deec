package stats

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

func (f *fixture) summary() *statsapi.Summary {
	f.t.Helper()
	s, err := f.c.Summary(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func u64(p *uint64) any {
	if p == nil {
		return nil
	}
	return *p
}

func check(t *testing.T, what string, got *uint64, want uint64) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("%s: %v, want %d", what, u64(got), want)
	}
}

// TestSummaryReadsTheCgroupTree: the node from the root cgroup, /proc and
// statfs; each pod with a ready sandbox from its cgroup and netns, with
// its running containers from theirs; a stopped sandbox and an exited
// container are left out.
func TestSummaryReadsTheCgroupTree(t *testing.T) {
	f := newFixture(t)
	s := f.summary()
	n := s.Node
	if n.NodeName != "n1" || n.StartTime.Unix() != boot {
		t.Errorf("node %q started %v", n.NodeName, n.StartTime)
	}
	check(t, "node cpu", n.CPU.UsageCoreNanoSeconds, 50e9)
	check(t, "node memory usage", n.Memory.UsageBytes, 800*1024)
	check(t, "node working set", n.Memory.WorkingSetBytes, 700*1024)
	check(t, "node rss", n.Memory.RSSBytes, 300*1024)
	check(t, "node available (MemTotal - working set)", n.Memory.AvailableBytes, 300*1024)
	check(t, "node page faults", n.Memory.PageFaults, 42)
	if n.Fs == nil || n.Fs.CapacityBytes == nil || *n.Fs.CapacityBytes == 0 || n.Fs.AvailableBytes == nil {
		t.Errorf("node fs %+v", n.Fs)
	}
	if n.Network == nil || n.Network.Name != "eth0" || len(n.Network.Interfaces) != 2 {
		t.Errorf("node network %+v: want eth0 on top, the veth left out", n.Network)
	}
	if len(s.Pods) != 1 {
		t.Fatalf("%d pods, want web alone", len(s.Pods))
	}
	p := s.Pods[0]
	if p.PodRef != (statsapi.PodReference{Name: "web", Namespace: "default", UID: "web-uid"}) || p.StartTime.IsZero() {
		t.Errorf("pod %+v started %v", p.PodRef, p.StartTime)
	}
	check(t, "pod cpu", p.CPU.UsageCoreNanoSeconds, 3e9)
	check(t, "pod working set", p.Memory.WorkingSetBytes, 30<<20)
	if p.Memory.AvailableBytes != nil {
		t.Errorf("pod without a limit: available %d", *p.Memory.AvailableBytes)
	}
	check(t, "pod rx bytes", p.Network.RxBytes, 300)
	check(t, "pod tx errors", p.Network.TxErrors, 2)
	var names []string
	for _, c := range p.Containers {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "app,side" {
		t.Fatalf("containers %v, want the running app and side", names)
	}
	app := p.Containers[0]
	check(t, "app cpu", app.CPU.UsageCoreNanoSeconds, 2e9)
	check(t, "app working set", app.Memory.WorkingSetBytes, 20<<20)
	check(t, "app available (limit - working set)", app.Memory.AvailableBytes, 44<<20)
	check(t, "app log used", app.Logs.UsedBytes, 10)
	if app.StartTime.IsZero() {
		t.Error("app has no start time")
	}
}

// TestUsageNanoCoresFromTwoSamples: the first reading has no rate; one at
// least MinWindow later has the CPU time per second between them.
func TestUsageNanoCoresFromTwoSamples(t *testing.T) {
	f := newFixture(t)
	if s := f.summary(); s.Node.CPU.UsageNanoCores != nil || s.Pods[0].CPU.UsageNanoCores != nil {
		t.Fatal("a rate from one sample")
	}
	f.clock.Step(10 * time.Second)
	f.tree.set("/nodeagent/n1/podweb-uid/"+f.app, 2e9+5e9, 30<<20, 10<<20, 15<<20, 64<<20) // half a core
	f.tree.set("/", 50e9+15e9, 800*1024, 100*1024, 300*1024, 0)
	s := f.summary()
	check(t, "node nanocores", s.Node.CPU.UsageNanoCores, 1_500_000_000)
	check(t, "app nanocores", s.Pods[0].Containers[0].CPU.UsageNanoCores, 500_000_000)
	check(t, "pod nanocores (no use)", s.Pods[0].CPU.UsageNanoCores, 0)
	// A request soon after keeps the window's start: the rate stays.
	f.clock.Step(100 * time.Millisecond)
	check(t, "app nanocores, 100 ms later", f.summary().Pods[0].Containers[0].CPU.UsageNanoCores, 495_049_504) // 5 s over 10.1 s
}

// TestRunSamplesSoTheFirstRequestHasARate: Run's samples give the first
// request a window.
func TestRunSamplesSoTheFirstRequestHasARate(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(5 * time.Second)
	for !f.clock.HasWaiters() { // Run took its first sample and waits on its ticker
		if time.Now().After(deadline) {
			t.Fatal("Run never waited")
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising on time
	}
	f.clock.Step(2 * time.Second)
	f.tree.set("/", 52e9, 800*1024, 100*1024, 300*1024, 0)
	check(t, "node nanocores at the first request", f.summary().Node.CPU.UsageNanoCores, 1e9)
}

// TestAContainerWhoseCgroupIsGone: reported, without CPU or memory; the
// summary does not fail.
func TestAContainerWhoseCgroupIsGone(t *testing.T) {
	f := newFixture(t)
	if err := removeAll(f.tree.root, f.app); err != nil {
		t.Fatal(err)
	}
	app := f.summary().Pods[0].Containers[0]
	if app.Name != "app" || app.CPU != nil || app.Memory != nil {
		t.Errorf("app %+v", app)
	}
}

func TestSummaryFailsWhenTheRuntimeDoes(t *testing.T) {
	f := newFixture(t)
	f.rt.FailNext("ListPodSandboxes", errors.New("containerd is restarting"))
	if _, err := f.c.Summary(context.Background()); err == nil || !strings.Contains(err.Error(), "containerd is restarting") {
		t.Errorf("err %v", err)
	}
}

// TestSummaryJSON: kubelet's field names, as a metrics-server decodes them.
func TestSummaryJSON(t *testing.T) {
	f := newFixture(t)
	data, err := json.Marshal(f.summary())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"node":{"nodeName":"n1"`, `"pods":[{"podRef":{"name":"web","namespace":"default","uid":"web-uid"}`,
		`"usageCoreNanoSeconds":3000000000`, `"workingSetBytes":31457280`, `"rxBytes":300`, `"containers":[{"name":"app"`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("no %s in %s", key, data)
		}
	}
}

// fakeVolumes reports fixed volume usage by pod uid.
type fakeVolumes map[string][]VolumeUsage

func (f fakeVolumes) PodVolumes(uid string) []VolumeUsage { return f[uid] }

// TestSummaryHasWhatEvictionReads: the pods' cgroup as the "pods" system
// container (its memory against its limit), the image filesystem, the
// node's process IDs, and each pod's process count, local volumes and
// ephemeral storage (logs, rotated ones too, and volumes).
func TestSummaryHasWhatEvictionReads(t *testing.T) {
	f := newFixture(t)
	f.c.cfg.PodsCgroup, f.c.cfg.ImageFsDir = "/nodeagent/n1/kubepods", f.c.cfg.RootDir
	f.c.deps.Volumes = fakeVolumes{"web-uid": {{Name: "scratch", UsedBytes: 4096, Inodes: 3}}}
	f.tree.set("/nodeagent/n1/kubepods", 1e9, 200<<20, 50<<20, 100<<20, 1<<30)
	f.tree.write("pids", "/nodeagent/n1/podweb-uid", "pids.current", "7\n")
	os.WriteFile(filepath.Join(f.logDir, "app.log.20260101-000000"), []byte("01234"), 0o644)
	s := f.summary()
	if len(s.Node.SystemContainers) != 1 || s.Node.SystemContainers[0].Name != statsapi.SystemContainerPods {
		t.Fatalf("system containers %+v", s.Node.SystemContainers)
	}
	pods := s.Node.SystemContainers[0].Memory
	check(t, "pods working set", pods.WorkingSetBytes, 150<<20)
	check(t, "pods available (limit - working set)", pods.AvailableBytes, (1<<30)-(150<<20))
	if s.Node.Runtime == nil || s.Node.Runtime.ImageFs == nil || s.Node.Runtime.ImageFs.AvailableBytes == nil {
		t.Errorf("image fs %+v", s.Node.Runtime)
	}
	if r := s.Node.Rlimit; r == nil || r.MaxPID == nil || *r.MaxPID != 4096 || r.NumOfRunningProcesses == nil || *r.NumOfRunningProcesses != 321 {
		t.Errorf("rlimit %+v", s.Node.Rlimit)
	}
	p := s.Pods[0]
	if p.ProcessStats == nil || p.ProcessStats.ProcessCount == nil || *p.ProcessStats.ProcessCount != 7 {
		t.Errorf("process stats %+v", p.ProcessStats)
	}
	if len(p.VolumeStats) != 1 || p.VolumeStats[0].Name != "scratch" {
		t.Fatalf("volume stats %+v", p.VolumeStats)
	}
	check(t, "app logs with the rotated file", p.Containers[0].Logs.UsedBytes, 15)
	check(t, "ephemeral storage: logs and volumes", p.EphemeralStorage.UsedBytes, 10+5+10+4096)
	check(t, "ephemeral storage inodes", p.EphemeralStorage.InodesUsed, 3+3)
}

// NodeMemory is the summary's node memory, alone.
func TestNodeMemory(t *testing.T) {
	f := newFixture(t)
	avail, ws, err := f.c.NodeMemory()
	if err != nil || avail != 300*1024 || ws != 700*1024 {
		t.Errorf("node memory available %d working set %d (%v), want 300Ki and 700Ki as the summary", avail, ws, err)
	}
}
