package cm

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
)

func TestParseReserved(t *testing.T) {
	got, err := ParseReserved("system-reserved", "cpu=100m, memory=256Mi,ephemeral-storage=1Gi,pid=1000")
	if err != nil {
		t.Fatal(err)
	}
	if q := got[corev1.ResourceMemory]; q.Value() != 256<<20 || len(got) != 4 {
		t.Errorf("got %v", got)
	}
	for _, bad := range []string{"cpu", "gpu=1", "memory=lots", "memory=-1Mi"} {
		if _, err := ParseReserved("kube-reserved", bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if !slices.Contains([]string{err.Error()[:16]}, "--kube-reserved:") {
			t.Errorf("%q: error does not name the flag: %v", bad, err)
		}
	}
	if got, err := ParseReserved("kube-reserved", ""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
}

func TestAllocatableLessReservationsAndHardEviction(t *testing.T) {
	r := Reservation{SystemReserved: res("cpu", "500m", "memory", "1Gi"), KubeReserved: res("memory", "512Mi", "ephemeral-storage", "1Gi"),
		HardEviction: res("memory", "100Mi", "ephemeral-storage", "2Gi")}
	capacity := res("cpu", "2", "memory", "4Gi", "ephemeral-storage", "10Gi", "pods", "110")
	alloc := r.Allocatable(capacity)
	for name, want := range map[corev1.ResourceName]string{"cpu": "1500m", "memory": "2460Mi", "ephemeral-storage": "7Gi", "pods": "110"} {
		if q := alloc[name]; q.Cmp(resourceMust(want)) != 0 {
			t.Errorf("allocatable %s = %s, want %s", name, q.String(), want)
		}
	}
	enforced := r.Enforced(capacity)
	if q := enforced[corev1.ResourceMemory]; q.Cmp(resourceMust("2560Mi")) != 0 {
		t.Errorf("enforced memory %s: the eviction threshold is not the kernel's", q.String())
	}
	tooMuch := Reservation{SystemReserved: res("memory", "8Gi")}.Allocatable(capacity)
	if q := tooMuch[corev1.ResourceMemory]; q.Sign() != 0 {
		t.Errorf("over-reserved memory %s, want 0", q.String())
	}
}

func TestManagerMakesTheQOSTreeAndPodCgroups(t *testing.T) {
	root := fakeV1Root(t, "cpu", "cpuacct", "memory", "pids")
	m := New(Config{Root: "/nodeagent/n1", Capacity: res("cpu", "2", "memory", "4Gi", "pid", "4096"),
		Reservation: Reservation{SystemReserved: res("cpu", "1", "memory", "1Gi", "pid", "96")}}, V1{Root: root}, slog.Default())
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{
		"cpu/nodeagent/n1/kubepods/cpu.shares":                "1024",
		"memory/nodeagent/n1/kubepods/memory.limit_in_bytes":  "3221225472",
		"pids/nodeagent/n1/kubepods/pids.max":                 "4000",
		"cpu/nodeagent/n1/kubepods/besteffort/cpu.shares":     "2",
		"memory/nodeagent/n1/kubepods/burstable/../burstable": "",
	} {
		if want == "" {
			if _, err := os.Stat(filepath.Join(root, f)); err != nil {
				t.Error(err)
			}
			continue
		}
		if got := read(t, filepath.Join(root, f)); got != want {
			t.Errorf("%s = %q, want %q", f, got, want)
		}
	}
	guaranteed := podOf(ctr("a", res("cpu", "1", "memory", "1Gi"), res("cpu", "1", "memory", "1Gi")))
	burstable := podOf(ctr("a", res("cpu", "300m"), nil))
	burstable.UID = "u2"
	bestEffort := podOf(ctr("a", nil, nil))
	bestEffort.UID = "u3"
	paths := map[types.UID]string{}
	for _, p := range []*corev1.Pod{guaranteed, burstable, bestEffort} {
		path, err := m.EnsurePod(p)
		if err != nil {
			t.Fatal(err)
		}
		paths[p.UID] = path
	}
	want := map[types.UID]string{"u1": "/nodeagent/n1/kubepods/podu1", "u2": "/nodeagent/n1/kubepods/burstable/podu2",
		"u3": "/nodeagent/n1/kubepods/besteffort/podu3"}
	for uid, p := range want {
		if paths[uid] != p {
			t.Errorf("pod %s at %s, want %s", uid, paths[uid], p)
		}
		if got, ok := m.PodCgroup(string(uid)); !ok || got != p {
			t.Errorf("PodCgroup(%s) = %s %v", uid, got, ok)
		}
	}
	if got := read(t, filepath.Join(root, "memory", want["u1"], "memory.limit_in_bytes")); got != "1073741824" {
		t.Errorf("guaranteed pod memory limit %s", got)
	}
	uids := m.PodUIDs()
	slices.Sort(uids)
	if !slices.Equal(uids, []string{"u1", "u2", "u3"}) {
		t.Errorf("PodUIDs %v", uids)
	}
	if err := m.UpdateQOS([]*corev1.Pod{guaranteed, burstable, bestEffort}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "cpu/nodeagent/n1/kubepods/burstable/cpu.shares")); got != "307" {
		t.Errorf("burstable shares %s, want its pods' 300m", got)
	}
	if q := m.Allocatable()[corev1.ResourceMemory]; q.Value() != 3<<30 {
		t.Errorf("allocatable memory %s", q.String())
	}
	if _, ok := m.Allocatable()[ResourcePID]; ok {
		t.Error("pid reported as allocatable")
	}
}

func resourceMust(s string) resource.Quantity { return resource.MustParse(s) }
