package prober

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/internal/memnet"
)

// fakeExec answers ExecSync from a function and records the calls.
type fakeExec struct {
	mu    sync.Mutex
	calls []execCall
	fn    func(id string, cmd []string) (cri.ExecResult, error)
}

type execCall struct {
	id      string
	cmd     []string
	timeout time.Duration
}

func (f *fakeExec) ExecSync(_ context.Context, id string, cmd []string, timeout time.Duration) (cri.ExecResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, execCall{id, cmd, timeout})
	fn := f.fn
	f.mu.Unlock()
	if fn == nil {
		return cri.ExecResult{}, nil
	}
	return fn(id, cmd)
}

func (f *fakeExec) setResult(code int32, out string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fn = func(string, []string) (cri.ExecResult, error) {
		return cri.ExecResult{Stdout: []byte(out), ExitCode: code}, err
	}
}

func (f *fakeExec) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// fakeStatus is a StatusProvider the test sets.
type fakeStatus struct {
	mu       sync.Mutex
	statuses map[types.UID]corev1.PodStatus
}

func newFakeStatus() *fakeStatus { return &fakeStatus{statuses: map[types.UID]corev1.PodStatus{}} }

func (f *fakeStatus) GetPodStatus(uid types.UID) (corev1.PodStatus, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.statuses[uid]
	return *s.DeepCopy(), ok
}

func (f *fakeStatus) set(uid types.UID, s corev1.PodStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses[uid] = s
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// harness is a Manager on fakes: exec, statuses, an in-memory network, a
// fake clock and a fake recorder.
type harness struct {
	m      *Manager
	exec   *fakeExec
	status *fakeStatus
	net    *memnet.Network
	clock  *clocktesting.FakeClock
	events *record.FakeRecorder
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{exec: &fakeExec{}, status: newFakeStatus(), net: memnet.New(),
		clock: clocktesting.NewFakeClock(t0), events: record.NewFakeRecorder(100)}
	m, err := New(Config{Exec: h.exec, Status: h.status, Dial: h.net.Dial, Recorder: h.events,
		Clock: h.clock, Jitter: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	h.m = m
	return h
}

// testPod has one app container "app" with the given probes set by the
// caller.
func testPod(c corev1.Container) *corev1.Pod {
	if c.Name == "" {
		c.Name = "app"
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-1"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{c}, RestartPolicy: corev1.RestartPolicyAlways},
	}
}

// running is the status of a pod whose containers run since startedAt.
func running(pod *corev1.Pod, ip string, startedAt time.Time, ids ...string) corev1.PodStatus {
	s := corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip}
	for i, c := range pod.Spec.Containers {
		s.ContainerStatuses = append(s.ContainerStatuses, corev1.ContainerStatus{Name: c.Name,
			ContainerID: "containerd://" + ids[i],
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(startedAt)}}})
	}
	return s
}

func execProbe(cmd ...string) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}},
		TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
}

// eventually waits for cond, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
}

// nextUpdate waits for the next result change.
func nextUpdate(t *testing.T, m *Manager) Update {
	t.Helper()
	select {
	case u := <-m.Updates():
		return u
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a result update")
	}
	return Update{}
}

// drainEvents returns the events recorded so far.
func drainEvents(r *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func hasEvent(events []string, prefix string) bool {
	for _, e := range events {
		if strings.HasPrefix(e, prefix) {
			return true
		}
	}
	return false
}
