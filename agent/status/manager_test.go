package status

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// api is a fake API server's pods with resourceVersions: an update of
// the status must name the current one, or it is a conflict.
type api struct {
	client  *fake.Clientset
	mu      sync.Mutex
	writes  int
	resyncs int
}

func newAPI(t *testing.T, pods ...*corev1.Pod) *api {
	var objs []runtime.Object
	for _, p := range pods {
		objs = append(objs, p)
	}
	a := &api{client: fake.NewClientset(objs...)}
	a.client.PrependReactor("update", "pods", a.update)
	return a
}

func (a *api) update(action k8stesting.Action) (bool, runtime.Object, error) {
	u := action.(k8stesting.UpdateAction)
	pod := u.GetObject().(*corev1.Pod).DeepCopy()
	gvr := corev1.SchemeGroupVersion.WithResource("pods")
	cur, err := a.client.Tracker().Get(gvr, pod.Namespace, pod.Name)
	if err != nil {
		return true, nil, err
	}
	if rv := cur.(*corev1.Pod).ResourceVersion; pod.ResourceVersion != rv {
		return true, nil, apierrors.NewConflict(gvr.GroupResource(), pod.Name, nil)
	}
	n, _ := strconv.Atoi(pod.ResourceVersion)
	pod.ResourceVersion = strconv.Itoa(n + 1)
	a.mu.Lock()
	a.writes++
	a.mu.Unlock()
	return true, pod, a.client.Tracker().Update(gvr, pod, pod.Namespace)
}

func (a *api) get(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	p, err := a.client.CoreV1().Pods("ns").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (a *api) manager(clk *testingclock.FakeClock, probing bool) *Manager {
	return New(Config{Pods: a.client.CoreV1(), Clock: clk, Probing: probing,
		Resync: func(*corev1.Pod) { a.mu.Lock(); a.resyncs++; a.mu.Unlock() }}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func testPod(probes bool) *corev1.Pod {
	c := corev1.Container{Name: "c", Image: "img"}
	if probes {
		c.ReadinessProbe = &corev1.Probe{}
		c.StartupProbe = &corev1.Probe{}
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid1", ResourceVersion: "1"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
}

// running is the status of a pod whose container c (id) runs.
func running(id string) corev1.PodStatus {
	yes := true
	return corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "c", ContainerID: id, Ready: true, Started: &yes,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0)}}}}}
}

func exited(id string) corev1.PodStatus {
	s := running(id)
	s.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}
	return s
}

func cond(s corev1.PodStatus, t corev1.PodConditionType) corev1.PodCondition {
	for _, c := range s.Conditions {
		if c.Type == t {
			return c
		}
	}
	return corev1.PodCondition{}
}

func TestWritesOnlyAChangedStatus(t *testing.T) {
	pod := testPod(false)
	a := newAPI(t, pod)
	m := a.manager(testingclock.NewFakeClock(t0), false)
	ctx := context.Background()
	for i, s := range []corev1.PodStatus{running("containerd://1"), running("containerd://1"), exited("containerd://1")} {
		if err := m.SetPodStatus(ctx, pod, s); err != nil {
			t.Fatalf("set %d: %v", i, err)
		}
	}
	if a.writes != 2 {
		t.Fatalf("%d writes, want 2 (the same status again is not written)", a.writes)
	}
	got := a.get(t, "p").Status
	if got.ContainerStatuses[0].State.Terminated == nil || cond(got, corev1.PodReady).Status != corev1.ConditionFalse {
		t.Fatalf("API status %+v", got)
	}
}

// TestStaleCacheNeitherConflictsNorRewrites: the pod worker reads the pod
// from an informer cache that has not yet seen the manager's last write.
// The manager writes on top of its own write, and does not write again a
// status the API already has.
func TestStaleCacheNeitherConflictsNorRewrites(t *testing.T) {
	stale := testPod(false)
	a := newAPI(t, stale)
	m := a.manager(testingclock.NewFakeClock(t0), false)
	ctx := context.Background()
	for _, s := range []corev1.PodStatus{running("containerd://1"), running("containerd://1"), exited("containerd://1")} {
		if err := m.SetPodStatus(ctx, stale, s); err != nil {
			t.Fatal(err)
		}
	}
	if a.writes != 2 || a.resyncs != 0 {
		t.Fatalf("%d writes and %d resyncs, want 2 and none", a.writes, a.resyncs)
	}
	if a.get(t, "p").Status.ContainerStatuses[0].State.Terminated == nil {
		t.Fatal("the exit is not in the API")
	}
}

// TestAnotherWriterConflicts: when someone else wrote the status after the
// manager did, the manager's write conflicts and asks for a resync.
func TestAnotherWriterConflicts(t *testing.T) {
	pod := testPod(false)
	a := newAPI(t, pod)
	m := a.manager(testingclock.NewFakeClock(t0), false)
	ctx := context.Background()
	if err := m.SetPodStatus(ctx, pod, running("containerd://1")); err != nil {
		t.Fatal(err)
	}
	other := a.get(t, "p")
	other.Status.Message = "evicted"
	if _, err := a.client.CoreV1().Pods("ns").UpdateStatus(ctx, other, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := m.SetPodStatus(ctx, pod, exited("containerd://1")); err != nil {
		t.Fatal(err)
	}
	if a.resyncs != 1 {
		t.Fatalf("%d resyncs after a conflict, want 1", a.resyncs)
	}
	// The worker's next sync reads the newer pod, and the write goes through.
	if err := m.SetPodStatus(ctx, a.get(t, "p"), exited("containerd://1")); err != nil {
		t.Fatal(err)
	}
	if a.get(t, "p").Status.ContainerStatuses[0].State.Terminated == nil {
		t.Fatal("the exit is not in the API")
	}
}

// TestProbeResultsDriveReadyAndStarted: with a prober, a container with a
// startup and a readiness probe is neither started nor ready until they
// succeed; each result reaches the API at once, with the conditions.
func TestProbeResultsDriveReadyAndStarted(t *testing.T) {
	pod := testPod(true)
	a := newAPI(t, pod)
	clk := testingclock.NewFakeClock(t0)
	m := a.manager(clk, true)
	id := "containerd://1"
	if err := m.SetPodStatus(context.Background(), pod, running(id)); err != nil {
		t.Fatal(err)
	}
	check := func(step string, started, ready bool) {
		t.Helper()
		s := a.get(t, "p").Status
		cs := s.ContainerStatuses[0]
		want := corev1.ConditionFalse
		if ready {
			want = corev1.ConditionTrue
		}
		if *cs.Started != started || cs.Ready != ready || cond(s, corev1.PodReady).Status != want || cond(s, corev1.ContainersReady).Status != want {
			t.Fatalf("%s: started %v ready %v conditions %+v; want started %v ready %v", step, *cs.Started, cs.Ready, s.Conditions, started, ready)
		}
	}
	check("no results yet", false, false)
	m.SetContainerReadiness(pod.UID, id, true)
	check("ready but not started", false, false)
	m.SetContainerStartup(pod.UID, id, true)
	check("started and ready", true, true)
	clk.Step(time.Minute)
	m.SetContainerReadiness(pod.UID, id, false)
	check("readiness failed", true, false)
	if c := cond(a.get(t, "p").Status, corev1.PodReady); !c.LastTransitionTime.Time.Equal(clk.Now()) || c.Message != "containers with unready status: [c]" {
		t.Fatalf("Ready condition %+v", c)
	}
	m.SetContainerReadiness(pod.UID, "containerd://old", true) // not the pod's container: nothing
	m.SetContainerReadiness("other-pod", id, true)
	check("results for others", true, false)
}

// TestWithoutProberRunningIsReady: with no prober, probes are not run and
// a running container is started and ready (what the agent did before it
// had a prober).
func TestWithoutProberRunningIsReady(t *testing.T) {
	pod := testPod(true)
	a := newAPI(t, pod)
	m := a.manager(testingclock.NewFakeClock(t0), false)
	if err := m.SetPodStatus(context.Background(), pod, running("containerd://1")); err != nil {
		t.Fatal(err)
	}
	if s := a.get(t, "p").Status; !s.ContainerStatuses[0].Ready || cond(s, corev1.PodReady).Status != corev1.ConditionTrue {
		t.Fatalf("status %+v", s)
	}
}

func TestStaticPodStatusGoesToItsMirror(t *testing.T) {
	static := testPod(false)
	static.ResourceVersion, static.UID = "", "static-uid"
	mirror := testPod(false)
	mirror.UID = "mirror-uid"
	a := newAPI(t, mirror)
	var hasMirror bool
	m := a.manager(testingclock.NewFakeClock(t0), false)
	m.cfg.Target = func(p *corev1.Pod) (*corev1.Pod, bool) {
		if !hasMirror {
			return nil, false
		}
		return a.get(t, "p"), true
	}
	ctx := context.Background()
	if err := m.SetPodStatus(ctx, static, running("containerd://1")); err != nil || a.writes != 0 {
		t.Fatalf("without a mirror: %v, %d writes", err, a.writes)
	}
	if s, ok := m.GetPodStatus(static.UID); !ok || s.Phase != corev1.PodRunning {
		t.Fatalf("the static pod's status is not held: %+v", s)
	}
	hasMirror = true
	if err := m.SetPodStatus(ctx, static, running("containerd://1")); err != nil || a.writes != 1 {
		t.Fatalf("with a mirror: %v, %d writes", err, a.writes)
	}
	if got := a.get(t, "p"); got.UID != "mirror-uid" || got.Status.Phase != corev1.PodRunning {
		t.Fatalf("mirror pod %+v", got)
	}
}

func TestOldStatus(t *testing.T) {
	pod := testPod(false)
	a := newAPI(t, pod)
	m := a.manager(testingclock.NewFakeClock(t0), false)
	if got := m.OldStatus(pod); got.Phase != "" {
		t.Fatalf("nothing set: %+v, want the pod's own", got)
	}
	m.SetPodStatus(context.Background(), pod, running("containerd://1"))
	if got := m.OldStatus(pod); got.Phase != corev1.PodRunning {
		t.Fatalf("the status set is the base: %+v", got)
	}
	evicted := pod.DeepCopy()
	evicted.Status.Phase = corev1.PodFailed
	if got := m.OldStatus(evicted); got.Phase != corev1.PodFailed {
		t.Fatalf("a pod the API says has finished stays finished: %+v", got)
	}
	m.RemovePod(pod.UID)
	m.RemoveOrphanedStatuses(func(types.UID) bool { return false })
	if m.Len() != 0 {
		t.Fatal("a removed pod is held")
	}
}

// TestIsOwnWrite: the manager recognizes the object its last write
// returned (the informer's echo of it), and nothing else.
func TestIsOwnWrite(t *testing.T) {
	pod := testPod(false)
	a := newAPI(t, pod)
	m := a.manager(testingclock.NewFakeClock(t0), false)
	if err := m.SetPodStatus(context.Background(), pod, running("containerd://1")); err != nil {
		t.Fatal(err)
	}
	echo := a.get(t, "p")
	if !m.IsOwnWrite(echo) {
		t.Fatal("the write's own result is not recognized")
	}
	other := echo.DeepCopy()
	other.ResourceVersion = "99"
	if m.IsOwnWrite(other) || m.IsOwnWrite(pod) {
		t.Fatal("another version is taken for the manager's write")
	}
	m.RemovePod(pod.UID)
	if m.IsOwnWrite(echo) || len(m.written) != 0 || len(m.targets) != 0 {
		t.Fatal("a removed pod's write is still remembered")
	}
}
