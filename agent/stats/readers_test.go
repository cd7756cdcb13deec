package stats

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func TestV1(t *testing.T) {
	tree := newCgroupTree(t)
	tree.set("/a", 123, 1000, 300, 500, 4096)
	tree.set("/b", 0, 100, 400, 0, 0) // inactive file above usage: no negative working set
	v1 := V1{Root: tree.root}
	if u, err := v1.CPU("/a"); err != nil || u.UsageNanoseconds != 123 {
		t.Errorf("cpu %+v %v", u, err)
	}
	m, err := v1.Memory("/a")
	if err != nil || m != (MemoryUsage{Usage: 1000, WorkingSet: 700, RSS: 500, PageFaults: 42, MajorPageFaults: 3, Limit: 4096}) {
		t.Errorf("memory %+v %v", m, err)
	}
	if m, err := v1.Memory("/b"); err != nil || m.WorkingSet != 100 || m.Limit != 0 {
		t.Errorf("memory %+v %v", m, err)
	}
	if _, err := v1.CPU("/gone"); !os.IsNotExist(err) {
		t.Errorf("a cgroup that is gone: %v", err)
	}
	tree.write("cpuacct", "/bad", "cpuacct.usage", "lots\n")
	if _, err := v1.CPU("/bad"); err == nil || !strings.Contains(err.Error(), "cpuacct.usage") {
		t.Errorf("unreadable value: %v", err)
	}
}

func TestParseNetDev(t *testing.T) {
	data := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
  eth0: 1178801734 2682806    7    0    0     0          0         0 98765 2682806    9    0    0     0       0          0
`
	ifs, err := parseNetDev([]byte(data))
	if err != nil || len(ifs) != 1 || ifs[0] != (Interface{Name: "eth0", RxBytes: 1178801734, RxErrors: 7, TxBytes: 98765, TxErrors: 9}) {
		t.Errorf("%+v %v", ifs, err)
	}
	if _, err := parseNetDev([]byte("eth0: 1 2 3\n")); err == nil {
		t.Error("a short line parsed")
	}
}

func TestProcNetDevOwnNamespace(t *testing.T) {
	if _, err := os.Stat(procNetDev); err != nil {
		t.Skip("no", procNetDev)
	}
	if _, err := (ProcNetDev{}).Interfaces(""); err != nil {
		t.Error(err)
	}
	if _, err := (ProcNetDev{}).Interfaces(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("a netns that does not exist was read")
	}
}

func TestCPURates(t *testing.T) {
	r := newCPURates(time.Second)
	t0 := time.Unix(1000, 0)
	add := func(at time.Duration, usage uint64) (uint64, bool) {
		return r.add("/c", cpuSample{at: t0.Add(at), usage: usage})
	}
	if _, ok := add(0, 1e9); ok {
		t.Error("a rate from one sample")
	}
	if _, ok := add(500*time.Millisecond, 1.2e9); ok {
		t.Error("a rate over less than the window")
	}
	// The window runs from the last sample at least a second older
	// (at 0.5 s) to this one: 1.8 s of CPU in 1.5 s.
	if v, ok := add(2*time.Second, 3e9); !ok || v != 1.2e9 {
		t.Errorf("rate %d %v, want 1.2 cores", v, ok)
	}
	if _, ok := add(3*time.Second, 1e6); ok {
		t.Error("a rate across a restarted cgroup (its time went back)")
	}
	r.keepOnly(map[string]bool{})
	if len(r.windows) != 0 {
		t.Error("a gone cgroup kept")
	}
}

// TestResourceMetrics: kubelet's /metrics/resource names and labels, the
// CPU in core-seconds, each stamped with its sample's time.
func TestResourceMetrics(t *testing.T) {
	f := newFixture(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewResourceMetrics(f.c))
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics/resource", nil))
	out := rec.Body.String()
	ms := f.clock.Now().UnixMilli()
	for _, want := range []string{
		"node_cpu_usage_seconds_total 50 " + itoa(ms),
		"node_memory_working_set_bytes 716800 " + itoa(ms),
		`pod_cpu_usage_seconds_total{namespace="default",pod="web"} 3 ` + itoa(ms),
		`pod_memory_working_set_bytes{namespace="default",pod="web"} 3.145728e+07 ` + itoa(ms),
		`container_cpu_usage_seconds_total{container="app",namespace="default",pod="web"} 2 ` + itoa(ms),
		`container_memory_working_set_bytes{container="side",namespace="default",pod="web"} 5.24288e+06 ` + itoa(ms),
		`container_start_time_seconds{container="app",namespace="default",pod="web"} 1.8e+09`,
		"resource_scrape_error 0",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	f.rt.FailNext("ListPodSandboxes", os.ErrDeadlineExceeded)
	rec = httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics/resource", nil))
	if !strings.Contains(rec.Body.String(), "resource_scrape_error 1") || strings.Contains(rec.Body.String(), "node_cpu") {
		t.Errorf("runtime down:\n%s", rec.Body.String())
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestV2(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "nodeagent", "n1", "podu")
	os.MkdirAll(dir, 0o755)
	files := map[string]string{
		"cpu.stat":       "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n",
		"memory.current": "1000\n",
		"memory.stat":    "anon 400\nfile 600\ninactive_file 250\npgfault 7\npgmajfault 1\n",
		"memory.max":     "max\n",
	}
	for name, content := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("cpu memory\n"), 0o644)
	cg := DetectCgroups(root)
	if _, ok := cg.(V2); !ok {
		t.Fatalf("detected %T, want V2", cg)
	}
	if u, err := cg.CPU("/nodeagent/n1/podu"); err != nil || u.UsageNanoseconds != 2_500_000 {
		t.Errorf("cpu %+v %v", u, err)
	}
	m, err := cg.Memory("/nodeagent/n1/podu")
	if err != nil || m != (MemoryUsage{Usage: 1000, WorkingSet: 750, RSS: 400, PageFaults: 7, MajorPageFaults: 1}) {
		t.Errorf("memory %+v %v", m, err)
	}
	os.WriteFile(filepath.Join(dir, "memory.max"), []byte("4096\n"), 0o644)
	if m, _ := cg.Memory("/nodeagent/n1/podu"); m.Limit != 4096 {
		t.Errorf("limit %d", m.Limit)
	}
	if _, ok := DetectCgroups(t.TempDir()).(V1); !ok {
		t.Error("a v1 root detected as v2")
	}
}

// TestV2RootMemory: the root cgroup of the unified hierarchy has no
// memory.current; its memory is the machine's, from meminfo and vmstat,
// as kubelet counts it (usage MemTotal - MemFree, working set less
// Inactive(file)), so that the node's memory and memory.available exist
// on cgroup v2 hosts.
func TestV2RootMemory(t *testing.T) {
	root, proc := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("cpu memory\n"), 0o644)
	os.WriteFile(filepath.Join(proc, "meminfo"), []byte("MemTotal:        1000 kB\nMemFree:          300 kB\n"+
		"MemAvailable:     600 kB\nAnonPages:        200 kB\nInactive(file):   100 kB\nHugePages_Total:       0\n"), 0o644)
	os.WriteFile(filepath.Join(proc, "vmstat"), []byte("nr_free_pages 75\npgfault 9\npgmajfault 2\n"), 0o644)
	cg := V2{Root: root, Proc: proc}
	for _, path := range []string{"/", ""} {
		m, err := cg.Memory(path)
		want := MemoryUsage{Usage: 700 << 10, WorkingSet: 600 << 10, RSS: 200 << 10, PageFaults: 9, MajorPageFaults: 2}
		if err != nil || m != want {
			t.Errorf("Memory(%q) = %+v, %v; want %+v", path, m, err, want)
		}
	}
	os.WriteFile(filepath.Join(proc, "meminfo"), []byte("MemFree: 300 kB\n"), 0o644)
	if _, err := cg.Memory("/"); err == nil {
		t.Error("a meminfo without MemTotal gave no error")
	}
	if _, ok := DetectCgroups(root).(V2); !ok {
		t.Fatal("not detected as v2")
	}
}
