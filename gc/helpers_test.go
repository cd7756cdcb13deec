package gc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/fake"
)

// pods is a PodState: the uids in deleted are gone.
type pods struct {
	mu      sync.Mutex
	ready   bool
	deleted map[string]bool
}

func (p *pods) AllSourcesReady() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ready
}

func (p *pods) PodDeleted(uid string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.deleted[uid]
}

// events records node events as "<type> <reason>: <message>".
type events struct {
	mu  sync.Mutex
	got []string
}

func (e *events) NodeEventf(typ, reason, format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, typ+" "+reason+": "+fmt.Sprintf(format, args...))
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.got...)
}

// env is a Manager over a fake runtime with a fake clock.
type env struct {
	t      *testing.T
	ctx    context.Context
	rt     *fake.Fake
	clock  *clocktesting.FakeClock
	pods   *pods
	events *events
	m      *Manager
	logDir string
	gone   []string // containers reported removed
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), rt: fake.New(), clock: clocktesting.NewFakeClock(t0),
		pods: &pods{ready: true, deleted: map[string]bool{}}, events: &events{}, logDir: t.TempDir()}
	e.rt.SetClock(e.clock.Now)
	cfg.PodLogDir = e.logDir
	m, err := New(cfg, Deps{Runtime: e.rt, Pods: e.pods, Recorder: e.events, Clock: e.clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), ContainerRemoved: func(c cri.Container) { e.gone = append(e.gone, c.ID) }})
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	return e
}

// sandbox runs a sandbox for pod uid.
func (e *env) sandbox(uid string) string {
	e.t.Helper()
	id, err := e.rt.RunPodSandbox(e.ctx, cri.SandboxConfig{Name: uid, Labels: map[string]string{
		cri.LabelPodUID: uid, cri.LabelPodNamespace: "ns", cri.LabelPodName: "pod-" + uid}})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// run starts instance attempt of container name in sandbox sb, with a log
// in the pod's log directory, and lets exit make it exit.
func (e *env) run(sb, uid, name, image string, attempt int, exit bool) cri.Container {
	e.t.Helper()
	e.rt.AddImage(image)
	logPath := fmt.Sprintf("%s/ns_pod-%s_%s/%s/%d.log", e.logDir, uid, uid, name, attempt)
	id, err := e.rt.CreateContainer(e.ctx, sb, cri.ContainerConfig{Name: name, Image: image, LogPath: logPath,
		Labels: map[string]string{cri.LabelContainerName: name, cri.LabelAttempt: fmt.Sprint(attempt)}})
	if err == nil {
		err = e.rt.StartContainer(e.ctx, id)
	}
	if err == nil {
		err = e.rt.WriteLog(id, "stdout", "hello")
	}
	if err == nil && exit {
		err = e.rt.ExitContainer(id, 1, "")
	}
	if err != nil {
		e.t.Fatal(err)
	}
	e.clock.Step(time.Second)
	c, _ := e.rt.ContainerStatus(e.ctx, id)
	return c
}

func (e *env) containerIDs() map[string]bool {
	cs, err := e.rt.ListContainers(e.ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, c := range cs {
		out[c.ID] = true
	}
	return out
}
