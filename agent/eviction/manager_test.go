package eviction

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	corev1 "k8s.io/api/core/v1"
)

var hardMemory = map[string]string{"memory.available": "100Mi"}

func TestHardMemoryEvictsBestEffortBeforeGuaranteed(t *testing.T) {
	n := newFakeNode(50*mi, 900*mi)
	n.addPod("guaranteed", 300*mi, 0, res("memory", "400Mi", "cpu", "1"), res("memory", "400Mi", "cpu", "1"))
	n.addPod("besteffort", 20*mi, 0, nil, nil)
	n.addPod("burstable", 210*mi, 0, res("memory", "200Mi"), nil) // 10Mi over, besteffort 20Mi
	m, _ := newTestManager(t, n, Config{Thresholds: mustThresholds(t, hardMemory, nil, nil, nil)})
	evicted, err := m.synchronize(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(evicted) != 1 || evicted[0].Name != "besteffort" {
		t.Fatalf("evicted %v, want besteffort first (the most over its request)", n.killedNames())
	}
	k := n.killed[0]
	want := "The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container c was using 20Mi, request is 0, has larger consumption of memory. "
	if k.status.Phase != corev1.PodFailed || k.status.Reason != "Evicted" || k.status.Message != want {
		t.Errorf("status %s/%s %q, want Failed/Evicted %q", k.status.Phase, k.status.Reason, k.status.Message, want)
	}
	if k.grace != 1 {
		t.Errorf("grace period %d, want 1 (hard threshold)", k.grace)
	}
	if i := slices.IndexFunc(k.status.Conditions, func(c corev1.PodCondition) bool { return c.Type == corev1.DisruptionTarget }); i < 0 ||
		k.status.Conditions[i].Reason != corev1.PodReasonTerminationByKubelet {
		t.Errorf("conditions %+v, want DisruptionTarget TerminationByKubelet", k.status.Conditions)
	}
	if !m.IsUnderMemoryPressure() || m.IsUnderDiskPressure() || m.IsUnderPIDPressure() {
		t.Errorf("pressure memory %v disk %v pid %v, want memory only", m.IsUnderMemoryPressure(), m.IsUnderDiskPressure(), m.IsUnderPIDPressure())
	}
	if !slices.Contains(n.events, "EvictionThresholdMet") || !slices.Contains(n.events, "Evicted") {
		t.Errorf("events %v, want EvictionThresholdMet and Evicted", n.events)
	}
	// Memory stays low: the burstable pod (over its request, though it
	// uses less than the guaranteed one) goes next, the guaranteed one
	// (within its request) last.
	for range 2 {
		if _, err := m.synchronize(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := n.killedNames(), []string{"besteffort", "burstable", "guaranteed"}; !slices.Equal(got, want) {
		t.Fatalf("eviction order %v, want %v", got, want)
	}
}

func TestRankByPriorityThenUsage(t *testing.T) {
	n := newFakeNode(50*mi, 900*mi)
	low := n.addPod("low-small", 10*mi, 0, nil, nil)
	high := n.addPod("high-big", 500*mi, 0, nil, nil)
	n.addPod("low-big", 300*mi, 0, nil, nil)
	low.Spec.Priority, high.Spec.Priority = ptr[int32](0), ptr[int32](1000)
	m, _ := newTestManager(t, n, Config{Thresholds: mustThresholds(t, hardMemory, nil, nil, nil)})
	for range 3 {
		if _, err := m.synchronize(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := n.killedNames(), []string{"low-big", "low-small", "high-big"}; !slices.Equal(got, want) {
		t.Errorf("eviction order %v, want %v (lowest priority first, then largest usage)", got, want)
	}
}

func TestCriticalPodsAreNotEvicted(t *testing.T) {
	n := newFakeNode(50*mi, 900*mi)
	static := n.addPod("static", 500*mi, 0, nil, nil)
	static.Annotations = map[string]string{"kubernetes.io/config.source": "file"}
	crit := n.addPod("critical", 400*mi, 0, nil, nil)
	crit.Spec.Priority = ptr[int32](2000001000)
	n.addPod("user", 1*mi, 0, nil, nil)
	m, _ := newTestManager(t, n, Config{Thresholds: mustThresholds(t, hardMemory, nil, nil, nil)})
	for range 3 {
		if _, err := m.synchronize(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.killedNames(); !slices.Equal(got, []string{"user"}) {
		t.Errorf("evicted %v, want only user", got)
	}
}

func TestSoftThresholdWaitsForGracePeriod(t *testing.T) {
	n := newFakeNode(500*mi, 900*mi)
	p := n.addPod("p", 100*mi, 0, nil, nil)
	p.Spec.TerminationGracePeriodSeconds = ptr[int64](30)
	ts := mustThresholds(t, nil, map[string]string{"memory.available": "1Gi"}, map[string]string{"memory.available": "1m"}, nil)
	m, clk := newTestManager(t, n, Config{Thresholds: ts, MaxPodGracePeriodSeconds: 20})
	sync := func() {
		t.Helper()
		if _, err := m.synchronize(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sync()
	if !m.IsUnderMemoryPressure() {
		t.Error("no MemoryPressure while a soft threshold is crossed")
	}
	clk.Step(59 * time.Second)
	sync()
	if len(n.killed) != 0 {
		t.Fatalf("evicted %v within the grace period", n.killedNames())
	}
	clk.Step(time.Second)
	sync()
	if len(n.killed) != 1 || n.killed[0].grace != 20 {
		t.Fatalf("killed %+v, want p with 20 s (min of its 30 s and the 20 s max)", n.killed)
	}
}

func TestPressureTransitionPeriod(t *testing.T) {
	n := newFakeNode(50*mi, 900*mi)
	var changes int
	m, clk := newTestManager(t, n, Config{Thresholds: mustThresholds(t, hardMemory, nil, nil, nil), PressureTransitionPeriod: time.Minute})
	m.deps.OnConditionsChanged = func() { changes++ }
	m.synchronize(context.Background())
	n.summary.Node.Memory.AvailableBytes = ptr[uint64](500 * mi)
	clk.Step(59 * time.Second)
	m.synchronize(context.Background())
	if !m.IsUnderMemoryPressure() {
		t.Error("MemoryPressure cleared within the transition period")
	}
	clk.Step(time.Second)
	m.synchronize(context.Background())
	if m.IsUnderMemoryPressure() {
		t.Error("MemoryPressure still set after the transition period")
	}
	if changes != 2 {
		t.Errorf("conditions changed %d times, want 2 (set, cleared)", changes)
	}
}

func TestMinReclaimKeepsThresholdCrossed(t *testing.T) {
	n := newFakeNode(50*mi, 900*mi)
	n.addPod("a", 10*mi, 0, nil, nil)
	n.addPod("b", 5*mi, 0, nil, nil)
	ts := mustThresholds(t, hardMemory, nil, nil, map[string]string{"memory.available": "100Mi"})
	m, _ := newTestManager(t, n, Config{Thresholds: ts})
	m.synchronize(context.Background())
	n.summary.Node.Memory.AvailableBytes = ptr[uint64](150 * mi) // above 100Mi, below 100Mi+100Mi
	m.synchronize(context.Background())
	if got := n.killedNames(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("evicted %v, want a then b: not yet 100Mi reclaimed above the threshold", got)
	}
	n.summary.Node.Memory.AvailableBytes = ptr[uint64](250 * mi)
	m.synchronize(context.Background())
	if m.met != nil {
		t.Errorf("thresholds still met %+v once the minimum was reclaimed", m.met)
	}
}

func TestDiskPressureReclaimsBeforeEvicting(t *testing.T) {
	n := newFakeNode(8<<30, 1<<30)
	n.summary.Node.Fs.AvailableBytes = ptr[uint64](5 << 30) // 5% of 100Gi
	n.addPod("logs", 0, 2<<30, nil, nil)
	n.addPod("quiet", 0, 1*mi, nil, nil)
	ts := mustThresholds(t, map[string]string{"nodefs.available": "10%"}, nil, nil, nil)
	m, _ := newTestManager(t, n, Config{Thresholds: ts})
	n.afterReclaim = func(s *statsapi.Summary) { s.Node.Fs.AvailableBytes = ptr[uint64](20 << 30) }
	m.synchronize(context.Background())
	if n.containersDeleted != 1 || len(n.reclaims) != 1 || n.reclaims[0] != 5<<30 {
		t.Errorf("reclaimed containers %d times, images %v, want once and 5Gi", n.containersDeleted, n.reclaims)
	}
	if len(n.killed) != 0 {
		t.Errorf("evicted %v though garbage collection freed enough", n.killedNames())
	}
	if !m.IsUnderDiskPressure() {
		t.Error("no DiskPressure")
	}
	n.summary.Node.Fs.AvailableBytes = ptr[uint64](5 << 30)
	n.afterReclaim = nil // frees nothing
	m.synchronize(context.Background())
	if got := n.killedNames(); !slices.Equal(got, []string{"logs"}) {
		t.Errorf("evicted %v, want logs (the largest user of the disk) once GC was not enough", got)
	}
	if msg := n.killed[0].status.Message; !strings.HasPrefix(msg, "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 5Gi. ") {
		t.Errorf("message %q", msg)
	}
}

func TestPIDPressureEvictsMostProcesses(t *testing.T) {
	n := newFakeNode(8<<30, 1<<30)
	n.summary.Node.Rlimit.NumOfRunningProcesses = ptr[int64](99990)
	n.addPod("few", 0, 0, nil, nil)
	n.addPod("forky", 0, 0, nil, nil)
	n.podStats("forky").ProcessStats.ProcessCount = ptr[uint64](5000)
	m, _ := newTestManager(t, n, Config{Thresholds: mustThresholds(t, map[string]string{"pid.available": "1000"}, nil, nil, nil)})
	m.synchronize(context.Background())
	if got := n.killedNames(); !slices.Equal(got, []string{"forky"}) || !m.IsUnderPIDPressure() {
		t.Errorf("evicted %v, PIDPressure %v; want forky and PIDPressure", got, m.IsUnderPIDPressure())
	}
	if !strings.HasPrefix(n.killed[0].status.Message, "The node was low on resource: pids. Threshold quantity: 1k, available: 10. ") {
		t.Errorf("message %q", n.killed[0].status.Message)
	}
}

func TestAllocatableMemory(t *testing.T) {
	n := newFakeNode(10<<30, 1<<30)
	n.summary.Node.SystemContainers = []statsapi.ContainerStats{{Name: statsapi.SystemContainerPods,
		Memory: &statsapi.MemoryStats{AvailableBytes: ptr[uint64](20 * mi), WorkingSetBytes: ptr[uint64](1 << 30)}}}
	n.addPod("p", 1<<30, 0, nil, nil)
	m, _ := newTestManager(t, n, Config{Thresholds: mustThresholds(t, hardMemory, nil, nil, nil)})
	m.synchronize(context.Background())
	if got := n.killedNames(); !slices.Equal(got, []string{"p"}) || !m.IsUnderMemoryPressure() {
		t.Errorf("evicted %v, want p: the pods' cgroup has 20Mi left of allocatable", got)
	}
}

func TestMemoryCheckBetweenPasses(t *testing.T) {
	n := newFakeNode(500*mi, 900*mi)
	n.addPod("p", 10*mi, 0, nil, nil)
	m, clk := newTestManager(t, n, Config{Thresholds: mustThresholds(t, hardMemory, nil, nil, nil)})
	m.deps.NodeMemory = func() (uint64, uint64, error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		return *n.summary.Node.Memory.AvailableBytes, *n.summary.Node.Memory.WorkingSetBytes, nil
	}
	if m.memoryNewlyCrossed() {
		t.Fatal("crossed with 500Mi available")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	waitFor(t, "the first pass and the tickers", func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return clk.HasWaiters() && n.summaries > 0
	})
	n.mu.Lock()
	n.summary.Node.Memory.AvailableBytes = ptr[uint64](50 * mi)
	n.mu.Unlock()
	clk.Step(time.Second) // the memory check, long before the 10 s pass
	waitFor(t, "an eviction after the memory check", func() bool { return len(n.killedNames()) == 1 })
	if !m.IsUnderMemoryPressure() {
		t.Error("no MemoryPressure")
	}
	if m.memoryNewlyCrossed() {
		t.Error("still newly crossed after the pass saw it")
	}
	cancel()
	<-done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
