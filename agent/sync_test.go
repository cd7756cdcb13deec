package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/agent/cm"
	"github.com/nodeagent/nodeagent/cni"
	"github.com/nodeagent/nodeagent/cri"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
	"github.com/nodeagent/nodeagent/volumes"
)

// fakeNet records attachments like host-local would.
type fakeNet struct {
	mu       sync.Mutex
	attached map[string]bool
	checks   []string // container IDs CHECKed, in order
	checkErr error    // when set, every CHECK fails with it
}

var _ podNetwork = &fakeNet{}

func (n *fakeNet) Add(_ context.Context, a cni.Attachment) ([]netip.Prefix, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.attached[a.ContainerID] = true
	return []netip.Prefix{netip.MustParsePrefix("10.244.0.9/24")}, nil
}

func (n *fakeNet) Del(_ context.Context, a cni.Attachment) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.attached, a.ContainerID)
	return nil
}

// Check fails for an attachment it does not hold, as a plugin whose
// state is gone would, or with checkErr.
func (n *fakeNet) Check(_ context.Context, a cni.Attachment) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.checks = append(n.checks, a.ContainerID)
	if n.checkErr != nil {
		return n.checkErr
	}
	if !n.attached[a.ContainerID] {
		return fmt.Errorf("no attachment %s", a.ContainerID)
	}
	return nil
}

// harness is an agent over a fake runtime and a fake API, synced by hand.
type harness struct {
	t       *testing.T
	a       *Agent
	cgroups *cm.Fake
	rt      *crifake.Fake
	client  *fake.Clientset
	net     *fakeNet
	mounts  *volumes.Fake
	clock   *testingclock.FakeClock
	ctx     context.Context
}

func newHarness(t *testing.T, rt *crifake.Fake, pods ...*corev1.Pod) *harness {
	t.Helper()
	h := newUnstartedHarness(t, rt, pods...)
	h.startInformer()
	return h
}

// newUnstartedHarness is a harness whose informer is not started.
func newUnstartedHarness(t *testing.T, rt *crifake.Fake, pods ...*corev1.Pod) *harness {
	t.Helper()
	return newHarnessWith(t, rt, nil, pods...)
}

// newHarnessWith is an unstarted harness whose agent has these options.
func newHarnessWith(t *testing.T, rt *crifake.Fake, opts []Option, pods ...*corev1.Pod) *harness {
	t.Helper()
	var objs []runtime.Object
	for _, p := range pods {
		objs = append(objs, p)
	}
	client := fake.NewClientset(objs...)
	cfg := DefaultConfig()
	cfg.NodeName, cfg.RootDir, cfg.PodLogDir = "n1", t.TempDir(), t.TempDir()
	clk := testingclock.NewFakeClock(t0)
	cgroups := cm.NewFake(1)
	a, err := New(cfg, client, rt, slog.New(slog.NewTextHandler(io.Discard, nil)), append([]Option{WithCgroups(cgroups)}, append(opts, WithClock(clk))...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cm.Start(); err != nil { // Run's first step
		t.Fatal(err)
	}
	h := &harness{t: t, a: a, rt: rt, cgroups: cgroups, client: client, net: &fakeNet{attached: map[string]bool{}}, mounts: volumes.NewFake(),
		clock: clk, ctx: context.Background()}
	a.net = h.net
	h.resetVolumes()
	a.netns = fileNetNS{}
	a.cfg.NetNSDir = t.TempDir()
	rt.SetClock(clk.Now)
	return h
}

// resetVolumes gives the agent a volume manager on the harness's fake
// mounts, loop devices and filesystems (after a change of its config).
func (h *harness) resetVolumes() {
	h.t.Helper()
	h.a.volumes = newVolumes(h.a.cfg, h.mounts, h.a.log)
	loop := volumes.NewFakeLoop()
	var err error
	h.a.volumeManager, err = h.a.newVolumeManager(h.a.volumes, volumeKernel{mounter: h.mounts, loop: loop, formatter: volumes.NewFakeFormatter(loop)})
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) startInformer() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	h.a.startInformers(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), h.a.podEvents.HasSynced, h.a.services.informer.HasSynced) {
		h.t.Fatal("cache did not sync")
	}
}

// sync syncs the pod namespace/name.
func (h *harness) sync(key string) {
	h.t.Helper()
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	h.syncWork(nameKey(ns, name))
}

func (h *harness) syncWork(key workKey) {
	h.t.Helper()
	if err := h.a.syncKey(h.ctx, key); err != nil {
		h.t.Fatalf("sync %s: %v", key, err)
	}
}

// pod returns the pod from the API, waiting until the cache caught up with it.
func (h *harness) pod(ns, name string) *corev1.Pod {
	p, err := h.client.CoreV1().Pods(ns).Get(h.ctx, name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// waitCache waits until the informer has the pod as the API has it (the
// fake API keeps no resourceVersions, so the objects are compared; the
// informer drops managedFields, kubecache.DropManagedFields).
func (h *harness) waitCache(ns, name string) {
	h.t.Helper()
	want := h.pod(ns, name)
	want.ManagedFields = nil
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		obj, ok, _ := h.a.pods.GetIndexer().GetByKey(ns + "/" + name)
		if ok && equality.Semantic.DeepEqual(obj, want) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("informer did not catch up with %s/%s", ns, name)
}

func (h *harness) containers() []cri.Container {
	cs, err := h.rt.ListContainers(h.ctx, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return cs
}

func appPod() *corev1.Pod {
	p := podSpec(corev1.RestartPolicyAlways, []string{"init"}, "a", "b")
	p.Spec.NodeName = "n1"
	p.Status.Phase = corev1.PodPending
	return p
}

func TestSyncRunsInitThenApps(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	h := newHarness(t, rt, appPod())
	h.sync("ns/p")
	cs := h.containers()
	if len(cs) != 1 || cs[0].Labels[cri.LabelContainerName] != "init" || cs[0].State != cri.ContainerRunning {
		t.Fatalf("after the first sync: %+v", cs)
	}
	if len(h.net.attached) != 1 {
		t.Fatalf("network attachments %v", h.net.attached)
	}
	rt.ExitContainer(cs[0].ID, 0, "")
	h.waitCache("ns", "p")
	h.sync("ns/p")
	running := 0
	for _, c := range h.containers() {
		if c.State == cri.ContainerRunning {
			running++
		}
	}
	if running != 2 {
		t.Fatalf("want the two app containers running, got %+v", h.containers())
	}
	p := h.pod("ns", "p")
	if p.Status.Phase != corev1.PodRunning || p.Status.PodIP != "10.244.0.9" || len(p.Status.ContainerStatuses) != 2 || !p.Status.ContainerStatuses[0].Ready {
		t.Fatalf("status %+v", p.Status)
	}
}

// A handler may hand a worker a pod of the informer's first list before
// the informer says it has synced: the key must come back, not be lost
// (the pod would stay Pending until its next change).
func TestKeyBeforeTheCacheSyncedComesBack(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	h := newHarness(t, rt, appPod())
	key := nameKey("ns", "p")
	k, _ := h.a.queue.Get() // the list's add
	if k != key {
		t.Fatalf("queued %v, want %v", k, key)
	}
	h.a.queue.Done(k)
	h.a.podsSynced = func() bool { return false } // as between the handler's add and HasSynced
	h.syncWork(key)
	if len(h.containers()) != 0 {
		t.Fatalf("synced before the cache: %+v", h.containers())
	}
	h.a.podsSynced = h.a.pods.HasSynced
	got := make(chan workKey, 1)
	go func() {
		k, _ := h.a.queue.Get()
		got <- k
		h.a.queue.Done(k)
	}()
	select {
	case k = <-got:
		if k != key {
			t.Fatalf("queued %v, want %v", k, key)
		}
	case <-time.After(5 * time.Second):
		h.a.queue.ShutDown()
		t.Fatal("the key handled before the cache synced never came back")
	}
	h.syncWork(key)
	if cs := h.containers(); len(cs) != 1 || cs[0].State != cri.ContainerRunning {
		t.Fatalf("after the key came back: %+v", cs)
	}
}

func TestSyncBacksOffACrashingContainer(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName = "n1"
	h := newHarness(t, rt, pod)
	h.sync("ns/p")
	first := h.containers()[0]
	rt.ExitContainer(first.ID, 1, "")
	h.waitCache("ns", "p")
	h.sync("ns/p")
	if len(h.containers()) != 1 {
		t.Fatal("restarted at once; want a 10s back-off")
	}
	st := h.pod("ns", "p").Status.ContainerStatuses[0]
	if st.State.Waiting == nil || st.State.Waiting.Reason != "CrashLoopBackOff" || st.LastTerminationState.Terminated.ExitCode != 1 {
		t.Fatalf("status %+v", st)
	}
	h.clock.Step(11 * time.Second)
	h.waitCache("ns", "p")
	h.sync("ns/p")
	st = h.pod("ns", "p").Status.ContainerStatuses[0]
	if st.State.Running == nil || st.RestartCount != 1 {
		t.Fatalf("after the back-off: %+v", st)
	}
}

func TestSyncTearsDownADeletedPodAndConfirms(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName = "n1"
	h := newHarness(t, rt, pod)
	h.sync("ns/p")
	p := h.pod("ns", "p")
	now := metav1.NewTime(t0)
	grace := int64(0)
	p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &now, &grace
	if _, err := h.client.CoreV1().Pods("ns").Update(h.ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitCache("ns", "p")
	h.sync("ns/p")
	if cs := h.containers(); len(cs) != 0 {
		t.Fatalf("containers left: %+v", cs)
	}
	if sbs, _ := rt.ListPodSandboxes(h.ctx, nil); len(sbs) != 0 || len(h.net.attached) != 0 {
		t.Fatalf("sandboxes %+v attachments %v", sbs, h.net.attached)
	}
	if _, err := h.client.CoreV1().Pods("ns").Get(h.ctx, "p", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the agent did not confirm the deletion: %v", err)
	}
}

func TestRestartedAgentAdoptsRunningPods(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := appPod()
	h := newHarness(t, rt, pod)
	h.sync("ns/p")
	rt.ExitContainer(h.containers()[0].ID, 0, "")
	h.waitCache("ns", "p")
	h.sync("ns/p")
	before := h.containers()

	h2 := newHarness(t, rt.Reopen(), h.pod("ns", "p"))
	h2.sync("ns/p")
	after := h2.containers()
	if len(after) != len(before) {
		t.Fatalf("a restarted agent changed the containers: %d -> %d", len(before), len(after))
	}
	for i := range before {
		if before[i].ID != after[i].ID || before[i].Pid != after[i].Pid {
			t.Fatalf("container %s restarted (pid %d -> %d)", before[i].ID, before[i].Pid, after[i].Pid)
		}
	}
}

func TestOrphansAreTornDown(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	h := newHarness(t, rt, appPod())
	h.sync("ns/p")
	if err := h.client.CoreV1().Pods("ns").Delete(h.ctx, "p", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.syncWork(orphanKey("uid1"))
	if cs := h.containers(); len(cs) != 0 {
		t.Fatalf("orphan containers left: %+v", cs)
	}
}

// fileNetNS stands in for pinned namespaces with plain files, so that the
// unit tests need no root and leave nothing in /var/run/netns.
type fileNetNS struct{}

func (fileNetNS) Create(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, nil, 0o644)
}

func (fileNetNS) Remove(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// TestFinishedPodIsTornDownWithoutTheAPI: a pod whose containers all
// finished reports so first, and is torn down (sandbox, CNI attachment)
// even when that status write fails.
func TestFinishedPodIsTornDownWithoutTheAPI(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyNever, nil, "a")
	pod.Spec.NodeName = "n1"
	h := newHarness(t, rt, pod)
	h.sync("ns/p")
	rt.ExitContainer(h.containers()[0].ID, 0, "")
	h.waitCache("ns", "p")
	h.client.PrependReactor("update", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("the API server is unreachable")
	})
	if err := h.a.syncKey(h.ctx, nameKey("ns", "p")); err == nil {
		t.Fatal("the failed status write must be reported (the pod is synced again)")
	}
	if sbs, _ := rt.ListPodSandboxes(h.ctx, nil); len(h.net.attached) != 0 || len(sbs) != 1 || sbs[0].State != cri.SandboxNotReady {
		t.Fatalf("a finished pod's sandbox must be stopped and detached without the API: sandboxes %+v attachments %v", sbs, h.net.attached)
	}
}

// TestPodInNamespaceOrphanRuns: a pod in a namespace named "orphan" is an
// ordinary pod, not the runtime leftovers of a pod with its name as uid.
func TestPodInNamespaceOrphanRuns(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Namespace, pod.Spec.NodeName = "orphan", "n1"
	h := newHarness(t, rt, pod)
	h.a.enqueueObj(pod)
	h.drain()
	if cs := h.containers(); len(cs) != 1 || cs[0].State != cri.ContainerRunning {
		t.Fatalf("the pod in namespace orphan did not run: %+v", cs)
	}
}

// TestTornDownPodLeavesNoState: what the agent keeps per pod goes with the
// pod.
func TestTornDownPodLeavesNoState(t *testing.T) {
	rt := crifake.New()
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName = "n1"
	h := newHarness(t, rt, pod)
	h.sync("ns/p") // the sandbox it made is noted in the pod's state
	if h.a.podSync.len() != 1 {
		t.Fatalf("%d pods with state, want 1", h.a.podSync.len())
	}
	p := h.pod("ns", "p")
	now := metav1.NewTime(t0)
	grace := int64(0)
	p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &now, &grace
	if _, err := h.client.CoreV1().Pods("ns").Update(h.ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitCache("ns", "p")
	h.sync("ns/p")
	if n, m := h.a.podSync.len(), h.a.statusManager.Len(); n != 0 || m != 0 {
		t.Fatalf("%d pods with state, %d with a status after the teardown, want none", n, m)
	}
}

// withResourceVersions makes the fake API check resourceVersions as the
// API server does: an update naming another one than the pod's is a
// conflict; each update moves it on.
func (h *harness) withResourceVersions() {
	h.client.PrependReactor("update", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		pod := action.(k8stesting.UpdateAction).GetObject().(*corev1.Pod).DeepCopy()
		gvr := corev1.SchemeGroupVersion.WithResource("pods")
		cur, err := h.client.Tracker().Get(gvr, pod.Namespace, pod.Name)
		if err != nil {
			return true, nil, err
		}
		if pod.ResourceVersion != cur.(*corev1.Pod).ResourceVersion {
			return true, nil, apierrors.NewConflict(gvr.GroupResource(), pod.Name, errors.New("the object has been modified"))
		}
		n, _ := strconv.Atoi(pod.ResourceVersion)
		pod.ResourceVersion = strconv.Itoa(n + 1)
		return true, pod, h.client.Tracker().Update(gvr, pod, pod.Namespace)
	})
}

// TestStatusWriteDoesNotWaitForTheCache: a sync right after another, on a
// cache that has not yet seen the first one's status write (a container
// exits just after it started), writes the new status at once instead of
// meeting a conflict and waiting for a retry.
func TestStatusWriteDoesNotWaitForTheCache(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName, pod.ResourceVersion = "n1", "1"
	h := newHarness(t, rt, pod)
	h.withResourceVersions()
	stale := h.pod("ns", "p") // as the cache has it before the first write
	if err := h.a.syncPod(h.ctx, stale); err != nil {
		t.Fatal(err)
	}
	rt.ExitContainer(h.containers()[0].ID, 1, "")
	if err := h.a.syncPod(h.ctx, stale); err != nil {
		t.Fatal(err)
	}
	if got := containerState(h.pod("ns", "p")); got != "CrashLoopBackOff" {
		t.Fatalf("container %s in the API, want the exit shown (CrashLoopBackOff)", got)
	}
}

// TestOwnStatusWriteDoesNotRequeue: the informer's echo of the agent's
// own status write queues no sync (kubelet does not sync on its own status
// updates); any other update of the pod does. Before, every update
// queued a sync, which listed the pod's containers again for nothing.
func TestOwnStatusWriteDoesNotRequeue(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName, pod.ResourceVersion = "n1", "1"
	h := newHarness(t, rt, pod)
	h.withResourceVersions()
	for h.a.queue.Len() > 0 { // the informer's first list, all queued
		k, _ := h.a.queue.Get()
		h.a.queue.Done(k)
	}
	// The informer's own delivery of the echo would race the write's
	// return (an extra sync when it comes first); this test calls the
	// handler itself.
	if err := h.a.pods.RemoveEventHandler(h.a.podEvents); err != nil {
		t.Fatal(err)
	}
	before := h.pod("ns", "p")
	h.sync("ns/p")
	echo := h.pod("ns", "p")
	h.a.onPodUpdate(before, echo)
	if n := h.a.queue.Len(); n != 0 {
		t.Fatalf("the echo of the agent's own status write queued %d syncs", n)
	}
	labelled := echo.DeepCopy()
	labelled.Labels = map[string]string{"x": "y"}
	labelled.ResourceVersion = "99"
	h.a.onPodUpdate(echo, labelled)
	if n := h.a.queue.Len(); n != 1 {
		t.Fatalf("another update queued %d syncs, want 1", n)
	}
}

// countingRuntime counts the runtime's list calls.
type countingRuntime struct {
	cri.Runtime
	lists int
}

func (c *countingRuntime) ListContainers(ctx context.Context, filter map[string]string) ([]cri.Container, error) {
	c.lists++
	return c.Runtime.ListContainers(ctx, filter)
}

// TestIdleSyncReadsTheRuntimeOnce: a sync that changes nothing in the
// runtime (an event for a pod that runs as it should) lists the pod's
// containers once, not again after doing nothing.
func TestIdleSyncReadsTheRuntimeOnce(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName = "n1"
	h := newHarness(t, rt, pod)
	h.sync("ns/p")
	counting := &countingRuntime{Runtime: rt}
	h.a.rt = counting
	h.waitCache("ns", "p")
	h.sync("ns/p")
	if counting.lists != 1 {
		t.Fatalf("an idle sync listed the containers %d times, want 1", counting.lists)
	}
}
