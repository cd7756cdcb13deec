package main

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nodeagent/nodeagent/proxy"
)

// Under systemd with Type=notify (examples/systemd), nodeagent says
// READY=1 once what it runs is ready: the API server serving, this node
// registered and Ready, the proxy's first sync applied. With WatchdogSec
// it then sends WATCHDOG=1 every half interval while its health checks
// pass (the agent's: kubelet's /healthz checks), so a wedged agent is
// restarted; STOPPING=1 when the command returns. Without NOTIFY_SOCKET none of
// this runs.

// notifier speaks the service manager's notify protocol (sd_notify(3)).
type notifier interface {
	Notify(state string) error
	// WatchdogInterval is WatchdogSec (0: no watchdog).
	WatchdogInterval() time.Duration
}

// sdNotifier is systemd's, through NOTIFY_SOCKET and WATCHDOG_USEC.
type sdNotifier struct{}

// systemdNotifier is the notifier when systemd asked for one, else nil.
func systemdNotifier() notifier {
	if os.Getenv("NOTIFY_SOCKET") == "" {
		return nil
	}
	return sdNotifier{}
}

func (sdNotifier) Notify(state string) error {
	_, err := daemon.SdNotify(false, state)
	return err
}

func (sdNotifier) WatchdogInterval() time.Duration {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0
	}
	return d
}

// readiness waits for the named parts to be ready, then notifies.
type readiness struct {
	n   notifier
	log *slog.Logger

	mu      sync.Mutex
	pending []string
	parts   []string
	checks  []namedCheck
	ready   chan struct{} // closed when pending is empty
	// grace, when set, is how long READY=1 waits for the parts: then it
	// is sent with the parts still pending in STATUS (env.readyGrace).
	grace time.Duration
}

// namedCheck is a health check fed to the watchdog.
type namedCheck struct {
	name  string
	check func() (bool, string)
}

// startReadiness makes env.ready for these parts and runs it until ctx
// ends; without a notifier it does nothing and env.ready stays nil (whose
// methods do nothing).
func (env *environment) startReadiness(ctx context.Context, parts ...string) {
	if env.notify == nil {
		return
	}
	r := &readiness{n: env.notify, log: env.log.With("component", "systemd"), pending: slices.Clone(parts), parts: parts,
		ready: make(chan struct{}), grace: env.readyGrace}
	if len(parts) == 0 {
		close(r.ready)
	}
	env.ready = r
	go r.run(ctx)
}

// stopping tells the service manager the daemon is going away (only a
// daemon command that started its readiness: not the helpers containerd
// runs, which may inherit a NOTIFY_SOCKET that is not theirs).
func (env *environment) stopping() {
	if env.ready != nil {
		env.ready.notify("STOPPING=1")
	}
}

// markReady says part is ready.
func (r *readiness) markReady(part string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.Index(r.pending, part)
	if i < 0 {
		return
	}
	r.pending = slices.Delete(r.pending, i, i+1)
	r.log.Info("ready", "part", part, "waiting-for", r.pending)
	if len(r.pending) == 0 {
		close(r.ready)
	}
}

// marker is markReady(part) as a func (nil without a notifier).
func (r *readiness) marker(part string) func() {
	if r == nil {
		return nil
	}
	return func() { r.markReady(part) }
}

// addCheck feeds a health check to the watchdog.
func (r *readiness) addCheck(name string, check func() (bool, string)) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, namedCheck{name, check})
}

// run notifies READY=1 once every part is ready (or once the grace has
// passed, saying what is still pending), then feeds the watchdog until ctx
// ends. (main says STOPPING=1 when the command returns.)
func (r *readiness) run(ctx context.Context) {
	var grace <-chan time.Time
	if r.grace > 0 {
		t := time.NewTimer(r.grace)
		defer t.Stop()
		grace = t.C
	}
	select {
	case <-ctx.Done():
		return
	case <-r.ready:
		r.notify("READY=1\nSTATUS=" + r.status())
	case <-grace:
		r.mu.Lock()
		pending := slices.Clone(r.pending)
		r.mu.Unlock()
		r.log.Warn("READY=1 before every part is ready: this start reuses the state of an earlier one and its pods run", "waiting-for", pending)
		r.notify("READY=1\nSTATUS=running; waiting for: " + strings.Join(pending, ", "))
		go func() {
			select {
			case <-ctx.Done():
			case <-r.ready:
				r.notify("STATUS=" + r.status())
			}
		}()
	}
	interval := r.n.WatchdogInterval() / 2
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.feedWatchdog()
		}
	}
}

func (r *readiness) status() string { return "ready: " + strings.Join(r.parts, ", ") }

// feedWatchdog sends WATCHDOG=1 if every check passes; else it says why
// in STATUS and lets the watchdog run out.
func (r *readiness) feedWatchdog() {
	r.mu.Lock()
	checks := slices.Clone(r.checks)
	r.mu.Unlock()
	for _, c := range checks {
		if ok, why := c.check(); !ok {
			r.log.Warn("health check failed: not feeding the watchdog", "check", c.name, "reason", why)
			r.notify("STATUS=unhealthy: " + c.name + ": " + why)
			return
		}
	}
	r.notify("WATCHDOG=1")
}

func (r *readiness) notify(state string) {
	if err := r.n.Notify(state); err != nil {
		r.log.Warn("notifying the service manager", "err", err)
	}
}

// waitNodeReady calls done once the node's Ready condition is True, looked
// at every second (only under a service manager that waits for it).
func waitNodeReady(ctx context.Context, client kubernetes.Interface, name string, done func()) {
	if done == nil {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil && nodeIsReady(n) {
			done()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func nodeIsReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// firstSync calls done after the proxy's first sync that applied.
type firstSync struct {
	proxy.NopObserver
	once sync.Once
	done func()
}

func (f *firstSync) Synced(res proxy.SyncResult, _ *proxy.Snapshot) {
	if res.Err == nil {
		f.once.Do(f.done)
	}
}
