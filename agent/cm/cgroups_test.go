package cm

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeV1Root is a cgroup v1 mount point with the hierarchies a node has.
func fakeV1Root(t *testing.T, hierarchies ...string) string {
	root := t.TempDir()
	for _, h := range hierarchies {
		if err := os.MkdirAll(filepath.Join(root, h), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// fakeV2Root is a unified hierarchy offering controllers.
func fakeV2Root(t *testing.T, controllers string) string {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte(controllers+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestV1CreateWritesLimitsInTheirHierarchies(t *testing.T) {
	root := fakeV1Root(t, "cpu", "cpuacct", "memory", "pids", "cpuset")
	cg := V1{Root: root}
	rc := &ResourceConfig{CPUShares: ptr(uint64(512)), CPUQuota: ptr(int64(50000)), CPUPeriod: ptr(uint64(100000)),
		Memory: ptr(int64(64 << 20)), MemoryMin: ptr(int64(1 << 20)), PidsLimit: ptr(Unlimited)}
	if err := cg.Create("/nodeagent/n1/kubepods/pod1", rc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"cpu/nodeagent/n1/kubepods/pod1/cpu.shares":               "512",
		"cpu/nodeagent/n1/kubepods/pod1/cpu.cfs_period_us":        "100000",
		"cpu/nodeagent/n1/kubepods/pod1/cpu.cfs_quota_us":         "50000",
		"memory/nodeagent/n1/kubepods/pod1/memory.limit_in_bytes": "67108864",
		"pids/nodeagent/n1/kubepods/pod1/pids.max":                "max",
	}
	for f, v := range want {
		if got := read(t, filepath.Join(root, f)); got != v {
			t.Errorf("%s = %q, want %q", f, got, v)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "cpuset/nodeagent")); !os.IsNotExist(err) {
		t.Errorf("cpuset cgroup made (runc makes it with the cpus and mems copied): %v", err)
	}
	if !cg.Exists("/nodeagent/n1/kubepods/pod1") || cg.Exists("/nodeagent/n1/kubepods/pod2") {
		t.Error("Exists")
	}
}

// Destroy is rmdir, children first: in cgroupfs a directory goes with its
// interface files, so the fake tree holds directories only.
func TestV1DestroyRemovesTheTreeInEveryHierarchy(t *testing.T) {
	root := fakeV1Root(t, "cpu", "cpuacct", "memory", "pids", "cpuset")
	cg := V1{Root: root}
	for _, p := range []string{"/nodeagent/n1/kubepods/pod1", "/nodeagent/n1/kubepods/burstable/pod2"} {
		if err := cg.Create(p, nil); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(root, "cpuset/nodeagent/n1/kubepods/pod1/ctr"), 0o755) // runc's
	if err := cg.Destroy("/nodeagent/n1/kubepods"); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"cpu", "cpuacct", "memory", "pids", "cpuset"} {
		if left, _ := os.ReadDir(filepath.Join(root, h, "nodeagent/n1")); len(left) != 0 {
			t.Errorf("%s: left %v", h, left)
		}
	}
}

func TestV1SkipsHierarchiesNotMounted(t *testing.T) {
	root := fakeV1Root(t, "cpu", "cpuacct", "memory") // no pids
	if err := (V1{Root: root}).Create("/x/pod1", &ResourceConfig{PidsLimit: ptr(int64(100))}); err != nil {
		t.Fatalf("a missing pids hierarchy failed the cgroup: %v", err)
	}
}

func TestV2CreateEnablesControllersAndWritesUnifiedFiles(t *testing.T) {
	root := fakeV2Root(t, "cpuset cpu io memory pids")
	cg := V2{Root: root}
	rc := &ResourceConfig{CPUShares: ptr(uint64(1024)), CPUQuota: ptr(int64(20000)), CPUPeriod: ptr(uint64(100000)),
		Memory: ptr(int64(128 << 20)), MemoryMin: ptr(int64(64 << 20)), PidsLimit: ptr(int64(500))}
	if err := cg.Create("/nodeagent/n1/kubepods/burstable/pod1", rc); err != nil {
		t.Fatal(err)
	}
	pod := filepath.Join(root, "nodeagent/n1/kubepods/burstable/pod1")
	want := map[string]string{"cpu.weight": "39", "cpu.max": "20000 100000", "memory.max": "134217728",
		"memory.min": "67108864", "pids.max": "500"}
	for f, v := range want {
		if got := read(t, filepath.Join(pod, f)); got != v {
			t.Errorf("%s = %q, want %q", f, got, v)
		}
	}
	for _, dir := range []string{"", "nodeagent", "nodeagent/n1", "nodeagent/n1/kubepods", "nodeagent/n1/kubepods/burstable"} {
		if got := read(t, filepath.Join(root, dir, "cgroup.subtree_control")); got != "+cpu +memory +pids" {
			t.Errorf("%s/cgroup.subtree_control = %q", dir, got)
		}
	}
	if err := cg.Update("/nodeagent/n1/kubepods/burstable/pod1", &ResourceConfig{CPUQuota: ptr(Unlimited), Memory: ptr(Unlimited)}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(pod, "cpu.max")); got != "max 100000" {
		t.Errorf("cpu.max %q", got)
	}
	if got := read(t, filepath.Join(pod, "memory.max")); got != "max" {
		t.Errorf("memory.max %q", got)
	}
}

func TestDetectCgroups(t *testing.T) {
	if v := DetectCgroups(fakeV2Root(t, "cpu")).Version(); v != 2 {
		t.Errorf("unified root: v%d", v)
	}
	if v := DetectCgroups(fakeV1Root(t, "memory")).Version(); v != 1 {
		t.Errorf("v1 root: v%d", v)
	}
}

func TestPathsAreRefusedUnlessCleanAndBelowTheRoot(t *testing.T) {
	cg := V1{Root: fakeV1Root(t, "memory")}
	for _, p := range []string{"", "/", "relative", "/a/../b", "/a/"} {
		if err := cg.Create(p, nil); err == nil {
			t.Errorf("Create(%q) accepted", p)
		}
		if err := cg.Destroy(p); err == nil {
			t.Errorf("Destroy(%q) accepted", p)
		}
	}
}

func TestSharesToWeight(t *testing.T) {
	for shares, want := range map[uint64]uint64{2: 1, 1024: 39, 262144: 10000, 1: 1, 1 << 20: 10000} {
		if got := SharesToWeight(shares); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}

// TestV2EnablesControllersFromTheRootDown: the kernel refuses (ENOENT) a
// controller in a cgroup's subtree_control that its parent does not
// enable, so the root's goes first (a VM's first boot found the reverse).
func TestV2EnablesControllersFromTheRootDown(t *testing.T) {
	got := ancestors("/nodeagent/n1/kubepods")
	if want := []string{"/", "/nodeagent", "/nodeagent/n1"}; !slices.Equal(got, want) {
		t.Fatalf("ancestors %q, want %q", got, want)
	}
}
