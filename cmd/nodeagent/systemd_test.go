package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/nodeagent/nodeagent/proxy"
)

// fakeNotifier records what is notified.
type fakeNotifier struct {
	states   chan string
	watchdog time.Duration
}

func newFakeNotifier(watchdog time.Duration) *fakeNotifier {
	return &fakeNotifier{states: make(chan string, 100), watchdog: watchdog}
}

func (f *fakeNotifier) Notify(state string) error       { f.states <- state; return nil }
func (f *fakeNotifier) WatchdogInterval() time.Duration { return f.watchdog }

// next is the next state notified, within a deadline.
func (f *fakeNotifier) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-f.states:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("nothing notified in 10s")
		return ""
	}
}

// none says nothing was notified yet.
func (f *fakeNotifier) none(t *testing.T) {
	t.Helper()
	select {
	case s := <-f.states:
		t.Fatalf("notified %q too early", s)
	default:
	}
}

func quietEnv(n notifier) *environment {
	return &environment{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil)), notify: n}
}

func TestReadyOnlyOnceEveryPartIs(t *testing.T) {
	n := newFakeNotifier(0)
	env := quietEnv(n)
	ctx, cancel := context.WithCancel(context.Background())
	env.startReadiness(ctx, "api", "node", "proxy")
	env.ready.markReady("api")
	env.ready.markReady("node")
	env.ready.markReady("node") // twice: still one part
	env.ready.markReady("other")
	n.none(t)
	env.ready.marker("proxy")()
	if s := n.next(t); !strings.HasPrefix(s, "READY=1\n") || !strings.Contains(s, "STATUS=ready: api, node, proxy") {
		t.Fatalf("notified %q, want READY=1 with a STATUS", s)
	}
	cancel()
	env.stopping()
	if s := n.next(t); s != "STOPPING=1" {
		t.Fatalf("notified %q at the end, want STOPPING=1", s)
	}
}

func TestWatchdogFedOnlyWhileHealthy(t *testing.T) {
	n := newFakeNotifier(20 * time.Millisecond)
	env := quietEnv(n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	healthy := make(chan bool, 1)
	healthy <- true
	current := true
	env.startReadiness(ctx, "node")
	env.ready.addCheck("agent", func() (bool, string) {
		select {
		case current = <-healthy:
		default:
		}
		return current, "pleg: not relisted for 4m"
	})
	env.ready.markReady("node")
	if s := n.next(t); !strings.HasPrefix(s, "READY=1") {
		t.Fatalf("first %q", s)
	}
	if s := n.next(t); s != "WATCHDOG=1" {
		t.Fatalf("healthy: %q, want WATCHDOG=1", s)
	}
	healthy <- false
	for s := n.next(t); s == "WATCHDOG=1"; s = n.next(t) {
		// ticks that ran before the check saw the change
	}
	// From now on: STATUS lines only, never WATCHDOG=1.
	for i := 0; i < 3; i++ {
		if s := n.next(t); s != "STATUS=unhealthy: agent: pleg: not relisted for 4m" {
			t.Fatalf("unhealthy: %q", s)
		}
	}
}

func TestNoNotifierNoReadiness(t *testing.T) {
	env := quietEnv(nil)
	env.startReadiness(context.Background(), "api")
	if env.ready != nil {
		t.Fatal("readiness without a service manager")
	}
	env.ready.markReady("api") // nil-safe
	env.ready.addCheck("x", nil)
	if env.ready.marker("api") != nil {
		t.Fatal("a marker without a service manager")
	}
	t.Setenv("NOTIFY_SOCKET", "")
	if systemdNotifier() != nil {
		t.Fatal("a notifier without NOTIFY_SOCKET")
	}
}

// TestSystemdNotifierSpeaksTheProtocol sends through a real datagram
// socket, as systemd's NOTIFY_SOCKET.
func TestSystemdNotifierSpeaksTheProtocol(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "4000000")
	t.Setenv("WATCHDOG_PID", "")
	n := systemdNotifier()
	if n == nil {
		t.Fatal("no notifier with NOTIFY_SOCKET set")
	}
	if d := n.WatchdogInterval(); d != 4*time.Second {
		t.Errorf("watchdog %v, want 4s", d)
	}
	if err := n.Notify("READY=1"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 256)
	k, err := conn.Read(buf)
	if err != nil || string(buf[:k]) != "READY=1" {
		t.Fatalf("read %q, %v", buf[:k], err)
	}
}

func TestWaitNodeReady(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}}}}
	client := fake.NewSimpleClientset(node)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan struct{})
	go waitNodeReady(ctx, client, "n1", func() { close(done) })
	select {
	case <-done:
		t.Fatal("ready while the node is NotReady")
	default:
	}
	node.Status.Conditions[0].Status = corev1.ConditionTrue
	if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("not ready 20s after the node became Ready")
	}
}

func TestFirstSyncOnlyOnAnAppliedSync(t *testing.T) {
	calls := 0
	f := &firstSync{done: func() { calls++ }}
	f.Synced(proxy.SyncResult{Err: io.ErrUnexpectedEOF}, nil)
	if calls != 0 {
		t.Fatal("ready after a failed sync")
	}
	f.Synced(proxy.SyncResult{}, nil)
	f.Synced(proxy.SyncResult{}, nil)
	if calls != 1 {
		t.Fatalf("done called %d times, want 1", calls)
	}
}

// TestReadyAfterTheGraceWithPartsPending: a start with a grace (a join
// that restarts while the server is down) says READY=1 once the grace
// passes, naming what is still pending, and STATUS=ready once it is.
func TestReadyAfterTheGraceWithPartsPending(t *testing.T) {
	n := newFakeNotifier(0)
	env := quietEnv(n)
	env.readyGrace = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env.startReadiness(ctx, "node", "proxy")
	env.ready.markReady("proxy")
	if s := n.next(t); s != "READY=1\nSTATUS=running; waiting for: node" {
		t.Fatalf("notified %q after the grace, want READY=1 naming the node", s)
	}
	env.ready.markReady("node")
	if s := n.next(t); s != "STATUS=ready: node, proxy" {
		t.Fatalf("notified %q once the node was ready, want STATUS=ready", s)
	}
}
