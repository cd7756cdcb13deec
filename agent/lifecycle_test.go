package agent

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	"github.com/nodeagent/nodeagent/agent/lifecycle"
	"github.com/nodeagent/nodeagent/cri"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

// lifecycleHarness runs a pod (app container a, changed by mod) on an agent
// over the fake runtime, with a fake recorder; the pod is synced once.
func lifecycleHarness(t *testing.T, rt *crifake.Fake, mod func(*corev1.Pod)) *harness {
	t.Helper()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName = "n1"
	mod(pod)
	h := newHarness(t, rt, pod)
	h.a.recorder = record.NewFakeRecorder(100)
	h.sync("ns/p")
	return h
}

// execLog records the commands run in containers (the fake runs them only
// in running containers).
type execLog struct {
	mu   sync.Mutex
	runs []string
}

func (l *execLog) handler(code int32, out string) crifake.ExecHandler {
	return func(id string, cmd []string) (cri.ExecResult, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.runs = append(l.runs, strings.Join(cmd, " "))
		return cri.ExecResult{Stdout: []byte(out), ExitCode: code}, nil
	}
}

func (l *execLog) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.runs)
}

func hasEventPrefix(events []string, prefix string) bool {
	return slices.ContainsFunc(events, func(e string) bool { return strings.HasPrefix(e, prefix) })
}

func execHook(cmd ...string) *corev1.LifecycleHandler {
	return &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: cmd}}
}

// TestPostStartHookFailureKillsTheContainer: a failing postStart hook gets
// kubelet's FailedPostStartHook event, the container is killed ("Killing"
// FailedPostStartHook) and waits with reason PostStartHookError.
func TestPostStartHookFailureKillsTheContainer(t *testing.T) {
	rt := crifake.New()
	log := &execLog{}
	rt.SetExecHandler(log.handler(7, "no config"))
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName = "n1"
	pod.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PostStart: execHook("setup")}
	h := newHarness(t, rt, pod)
	h.a.recorder = record.NewFakeRecorder(100)
	if err := h.a.syncKey(h.ctx, nameKey("ns", "p")); err == nil {
		t.Fatal("the sync of a failed postStart hook reported no error")
	}
	if got := log.seen(); !slices.Equal(got, []string{"setup"}) {
		t.Fatalf("execs %q, want the hook", got)
	}
	if cs := h.containers(); len(cs) != 1 || cs[0].State != cri.ContainerExited {
		t.Fatalf("the container was not killed: %+v", cs)
	}
	events := drain(h.a.recorder.(*record.FakeRecorder))
	for _, want := range []string{"Warning FailedPostStartHook PostStartHook failed", "Normal Killing FailedPostStartHook"} {
		if !hasEventPrefix(events, want) {
			t.Errorf("no event %q in %q", want, events)
		}
	}
	w := h.pod("ns", "p").Status.ContainerStatuses[0].State.Waiting
	if w == nil || w.Reason != lifecycle.ReasonPostStartHookError || !strings.Contains(w.Message, "no config") {
		t.Fatalf("waiting state %+v, want PostStartHookError with the hook's output", w)
	}
}

// TestPreStopRunsBeforeTheStop: a deleted pod's container runs its preStop
// hook while it still runs, then stops.
func TestPreStopRunsBeforeTheStop(t *testing.T) {
	rt := crifake.New()
	log := &execLog{}
	rt.SetExecHandler(log.handler(0, ""))
	h := lifecycleHarness(t, rt, func(p *corev1.Pod) {
		p.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: execHook("drain")}
	})
	p := h.pod("ns", "p")
	p.DeletionTimestamp = &metav1.Time{Time: t0}
	if _, err := h.client.CoreV1().Pods("ns").Update(h.ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitCache("ns", "p")
	h.sync("ns/p")
	// The fake runs an exec only in a running container: the hook ran
	// before the stop.
	if got := log.seen(); !slices.Equal(got, []string{"drain"}) {
		t.Fatalf("execs %q, want the preStop hook", got)
	}
	if !hasEventPrefix(drain(h.a.recorder.(*record.FakeRecorder)), "Normal Killing Stopping container a") {
		t.Fatal("no Killing event")
	}
	for _, c := range h.containers() {
		if c.State == cri.ContainerRunning {
			t.Fatalf("still running after the kill: %+v", c)
		}
	}
}

// TestSidecarsStopAfterTheApps: a pod's sidecars stop once its app
// containers have, in reverse order.
func TestSidecarsStopAfterTheApps(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := sidecarPod([]string{"side1", "side2"}, "app")
	pod.Spec.NodeName = "n1"
	h := newHarness(t, rt, pod)
	for range 3 { // side1, side2, then the app
		h.waitCache("ns", "p")
		h.sync("ns/p")
	}
	if n := len(h.containers()); n != 3 {
		t.Fatalf("%d containers, want the two sidecars and the app", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := rt.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, c := range h.containers() {
		names[c.ID] = c.Labels[cri.LabelContainerName]
	}
	st, err := h.a.podState(h.ctx, "uid1")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.a.killPod(h.ctx, h.pod("ns", "p"), st); err != nil {
		t.Fatal(err)
	}
	var order []string
	for len(order) < 3 {
		select {
		case ev := <-events:
			if ev.Type == cri.EventContainerExited {
				order = append(order, names[ev.ContainerID])
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("containers stopped so far: %q", order)
		}
	}
	if want := []string{"app", "side2", "side1"}; !slices.Equal(order, want) {
		t.Fatalf("stop order %q, want %q", order, want)
	}
}

// TestSidecarStartupGatesTheApps: the app containers wait until the
// sidecar's startup probe has passed.
func TestSidecarStartupGatesTheApps(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := sidecarPod([]string{"side1"}, "app")
	pod.Spec.NodeName = "n1"
	pod.Spec.InitContainers[0].StartupProbe = &corev1.Probe{}
	fp := NewFakeProber()
	h := newHarnessWith(t, rt, []Option{WithProber(fp)}, pod)
	h.startInformer()
	h.sync("ns/p")
	h.waitCache("ns", "p")
	h.sync("ns/p")
	if n := len(h.containers()); n != 1 {
		t.Fatalf("%d containers before the sidecar's startup probe passed, want the sidecar alone", n)
	}
	fp.Set("uid1", h.runningID("side1"), ProbeStartup, ProbeSuccess)
	h.deliver(fp)
	h.drain()
	h.runningID("app") // fails the test unless the app runs
}

// TestTerminationMessageReachesTheStatus: what a container wrote to its
// terminationMessagePath is its terminated state's message, and its last
// state's once it restarted; FallbackToLogsOnError takes the log's end.
func TestTerminationMessageReachesTheStatus(t *testing.T) {
	rt := crifake.New()
	h := lifecycleHarness(t, rt, func(p *corev1.Pod) {
		p.Spec.RestartPolicy = corev1.RestartPolicyNever
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "b", Image: "img",
			TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError})
		p.Spec.Containers[0].TerminationMessagePath = "/dev/termination-log"
	})
	byName := map[string]cri.Container{}
	for _, c := range h.containers() {
		byName[c.Labels[cri.LabelContainerName]] = c
	}
	file := lifecycle.MessageFilePath(h.a.podDir("uid1"), "a", 0)
	if err := os.WriteFile(file, []byte("done: 42 rows"), 0o666); err != nil {
		t.Fatalf("the message file was not made: %v", err)
	}
	if err := rt.WriteLog(byName["b"].ID, "stderr", "panic: boom"); err != nil {
		t.Fatal(err)
	}
	rt.ExitContainer(byName["a"].ID, 0, "")
	rt.ExitContainer(byName["b"].ID, 2, "")
	h.waitCache("ns", "p")
	h.sync("ns/p")
	msgs := map[string]string{}
	for _, cs := range h.pod("ns", "p").Status.ContainerStatuses {
		msgs[cs.Name] = cs.State.Terminated.Message
	}
	if msgs["a"] != "done: 42 rows" || msgs["b"] != "panic: boom\n" {
		t.Fatalf("termination messages %q", msgs)
	}
}

// TestActiveDeadlineFailsThePod: past its activeDeadlineSeconds a pod is
// killed and Failed with reason DeadlineExceeded, with kubelet's event;
// it stays so.
func TestActiveDeadlineFailsThePod(t *testing.T) {
	rt := crifake.New()
	h := lifecycleHarness(t, rt, func(p *corev1.Pod) {
		d := int64(30)
		p.Spec.ActiveDeadlineSeconds = &d
	})
	h.clock.Step(31 * time.Second)
	h.waitCache("ns", "p")
	h.sync("ns/p")
	for range 2 {
		s := h.pod("ns", "p").Status
		if s.Phase != corev1.PodFailed || s.Reason != lifecycle.ReasonDeadlineExceeded || s.Message != lifecycle.MessageDeadlineExceeded {
			t.Fatalf("status %s %s %q, want Failed for the deadline", s.Phase, s.Reason, s.Message)
		}
		if cs := h.containers(); len(cs) != 1 || cs[0].State != cri.ContainerExited {
			t.Fatalf("the container was not killed: %+v", cs)
		}
		h.waitCache("ns", "p")
		h.sync("ns/p")
	}
	events := drain(h.a.recorder.(*record.FakeRecorder))
	if !hasEventPrefix(events, "Normal DeadlineExceeded Pod was active on the node longer than the specified deadline") {
		t.Fatalf("no DeadlineExceeded event: %q", events)
	}
}

// blockingExec is a runtime's exec that runs until its context ends.
type blockingExec struct{ entered chan struct{} }

func (b blockingExec) ExecSync(ctx context.Context, _ string, _ []string, _ time.Duration) (cri.ExecResult, error) {
	close(b.entered)
	<-ctx.Done()
	return cri.ExecResult{}, ctx.Err()
}

// TestDeletionEndsAHangingPostStartHook: a postStart hook that never
// returns holds the pod's sync (and a worker) only until the pod is being
// deleted.
func TestDeletionEndsAHangingPostStartHook(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName = "n1"
	pod.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PostStart: execHook("sleep", "infinity")}
	h := newHarness(t, rt, pod)
	exec := blockingExec{entered: make(chan struct{})}
	hooks, err := lifecycle.New(lifecycle.Config{Exec: exec, Clock: h.clock})
	if err != nil {
		t.Fatal(err)
	}
	h.a.hooks = hooks
	synced := make(chan error, 1)
	go func() { synced <- h.a.syncKey(h.ctx, nameKey("ns", "p")) }()
	select {
	case <-exec.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the hook did not start")
	}
	p := h.pod("ns", "p")
	p.DeletionTimestamp = &metav1.Time{Time: t0}
	if _, err := h.client.CoreV1().Pods("ns").Update(h.ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-synced:
	case <-time.After(10 * time.Second):
		t.Fatal("the sync still waits for the hook of a pod being deleted")
	}
}
