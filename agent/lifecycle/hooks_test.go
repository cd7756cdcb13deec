package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/internal/memnet"
)

// fakeExec answers ExecSync with fn; a nil fn exits 0.
type fakeExec struct {
	mu    sync.Mutex
	cmds  [][]string
	fn    func(ctx context.Context, cmd []string) (cri.ExecResult, error)
	calls chan struct{}
}

func (f *fakeExec) ExecSync(ctx context.Context, _ string, cmd []string, _ time.Duration) (cri.ExecResult, error) {
	f.mu.Lock()
	f.cmds = append(f.cmds, cmd)
	fn := f.fn
	f.mu.Unlock()
	if f.calls != nil {
		f.calls <- struct{}{}
	}
	if fn == nil {
		return cri.ExecResult{}, nil
	}
	return fn(ctx, cmd)
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

type harness struct {
	h      *Hooks
	exec   *fakeExec
	net    *memnet.Network
	clock  *clocktesting.FakeClock
	events *record.FakeRecorder
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	x := &harness{exec: &fakeExec{}, net: memnet.New(), clock: clocktesting.NewFakeClock(t0), events: record.NewFakeRecorder(10)}
	h, err := New(Config{Exec: x.exec, Dial: x.net.Dial, Recorder: x.events, Clock: x.clock})
	if err != nil {
		t.Fatal(err)
	}
	x.h = h
	return x
}

func hookContainer(l *corev1.Lifecycle) Container {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-1"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Lifecycle: l,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}
	return Container{Pod: pod, Spec: &pod.Spec.Containers[0], ID: "c1", PodIP: "10.244.0.5"}
}

func events(r *record.FakeRecorder) []string {
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

func TestNewNeedsExec(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("no error without Exec")
	}
}

func TestPostStartExec(t *testing.T) {
	x := newHarness(t)
	c := hookContainer(&corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c", "setup"}}}})
	if err := x.h.PostStart(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	x.exec.fn = func(context.Context, []string) (cri.ExecResult, error) {
		return cri.ExecResult{Stdout: []byte("out;"), Stderr: []byte("no db"), ExitCode: 3}, nil
	}
	err := x.h.PostStart(context.Background(), c)
	var he *HookError
	if !errors.As(err, &he) || he.Reason != "PostStartHookError" {
		t.Fatalf("error %v, want a HookError", err)
	}
	want := `Exec lifecycle hook ([sh -c setup]) for Container "app" in Pod "web_default(uid-1)" failed - error: command 'sh -c setup' exited with 3: no db, message: "out;no db"`
	if he.Message != want {
		t.Fatalf("message\n%s\nwant\n%s", he.Message, want)
	}
	if got := events(x.events); len(got) != 1 || got[0] != "Warning FailedPostStartHook PostStartHook failed" {
		t.Fatalf("events %q (the hook's output must stay out of them)", got)
	}
}

func TestNoHooksDoNothing(t *testing.T) {
	x := newHarness(t)
	c := hookContainer(nil)
	if err := x.h.PostStart(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if d := x.h.PreStop(context.Background(), c, 30*time.Second); d != 0 {
		t.Fatalf("PreStop took %v with no hook", d)
	}
	if len(x.exec.cmds) != 0 {
		t.Fatal("ran something")
	}
}

func TestHTTPHooks(t *testing.T) {
	x := newHarness(t)
	var mu sync.Mutex
	var seen []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path+" "+r.Header.Get("User-Agent"))
		mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError) // hooks ignore the status
	})}
	l := x.net.Listen("10.244.0.5:8080")
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	get := func(scheme corev1.URIScheme, port string) *corev1.Lifecycle {
		return &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: "/started", Port: intstr.Parse(port), Scheme: scheme}}}
	}
	if err := x.h.PostStart(context.Background(), hookContainer(get(corev1.URISchemeHTTP, "http"))); err != nil {
		t.Fatalf("a 500 failed the hook: %v", err)
	}
	// An https hook on a plain HTTP server: retried over http, with an event.
	if err := x.h.PostStart(context.Background(), hookContainer(get(corev1.URISchemeHTTPS, "8080"))); err != nil {
		t.Fatalf("the http fallback failed: %v", err)
	}
	if got := events(x.events); len(got) != 1 || got[0] != "Warning LifecycleHTTPFallback request to HTTPS lifecycle hook 10.244.0.5:8080 got HTTP response, retry with HTTP succeeded" {
		t.Fatalf("events %q", got)
	}
	mu.Lock()
	if len(seen) != 2 || seen[0] != "/started kube-lifecycle/1.37" {
		t.Fatalf("the pod saw %q", seen)
	}
	mu.Unlock()

	err := x.h.PostStart(context.Background(), hookContainer(get(corev1.URISchemeHTTP, "9999")))
	want := `HTTP lifecycle hook (/started) for Container "app" in Pod "web_default(uid-1)" failed - error: Get "http://10.244.0.5:9999/started": dial tcp 10.244.0.5:9999: connect: connection refused`
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant %s", err, want)
	}
	c := hookContainer(get(corev1.URISchemeHTTP, "8080"))
	c.PodIP = ""
	if err := x.h.PostStart(context.Background(), c); err == nil || !strings.Contains(err.Error(), "failed to find networking container") {
		t.Fatalf("no pod IP: %v", err)
	}
}

func TestPreStopSleepWithinGrace(t *testing.T) {
	for _, tc := range []struct {
		sleep, grace time.Duration
		wantTook     time.Duration
	}{
		{sleep: 5 * time.Second, grace: 30 * time.Second, wantTook: 5 * time.Second},
		{sleep: 60 * time.Second, grace: 30 * time.Second, wantTook: 30 * time.Second}, // cut at the grace period
	} {
		t.Run(fmt.Sprint(tc.sleep), func(t *testing.T) {
			x := newHarness(t)
			c := hookContainer(&corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: int64(tc.sleep / time.Second)}}})
			took := make(chan time.Duration)
			go func() { took <- x.h.PreStop(context.Background(), c, tc.grace) }()
			waitWaiters(t, x.clock, 2) // the sleep and the grace timer
			x.clock.Step(min(tc.sleep, tc.grace))
			if got := <-took; got != tc.wantTook {
				t.Fatalf("took %v, want %v", got, tc.wantTook)
			}
			if got := events(x.events); len(got) != 0 {
				t.Fatalf("events %q", got)
			}
		})
	}
}

func TestPreStopExecCancelledAtGrace(t *testing.T) {
	x := newHarness(t)
	x.exec.calls = make(chan struct{}, 1)
	x.exec.fn = func(ctx context.Context, _ []string) (cri.ExecResult, error) {
		<-ctx.Done() // a hook that hangs until it is killed
		return cri.ExecResult{}, ctx.Err()
	}
	c := hookContainer(&corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"drain"}}}})
	took := make(chan time.Duration)
	go func() { took <- x.h.PreStop(context.Background(), c, 10*time.Second) }()
	<-x.exec.calls
	waitWaiters(t, x.clock, 1)
	x.clock.Step(10 * time.Second)
	if got := <-took; got != 10*time.Second {
		t.Fatalf("took %v", got)
	}
}

func TestPreStopFailureIsRecorded(t *testing.T) {
	x := newHarness(t)
	x.exec.fn = func(context.Context, []string) (cri.ExecResult, error) { return cri.ExecResult{ExitCode: 1}, nil }
	c := hookContainer(&corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"drain"}}}})
	if took := x.h.PreStop(context.Background(), c, 10*time.Second); took != 0 {
		t.Fatalf("took %v on a clock that did not move", took)
	}
	if got := events(x.events); len(got) != 1 || got[0] != "Warning FailedPreStopHook PreStopHook failed" {
		t.Fatalf("events %q", got)
	}
	if x.h.PreStop(context.Background(), c, 0); len(x.exec.cmds) != 1 {
		t.Fatal("a preStop hook ran with no grace period left")
	}
}

// waitWaiters waits until n timers wait on the fake clock.
func waitWaiters(t *testing.T, clk *clocktesting.FakeClock, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for clk.Waiters() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d timers wait on the clock, want %d", clk.Waiters(), n)
		}
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
}
