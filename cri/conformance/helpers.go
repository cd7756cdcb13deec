package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/cri"
)

// suite is one case's runtime, environment and context.
type suite struct {
	t   *testing.T
	rt  cri.Runtime
	env Env
	ctx context.Context
}

// pod is a sandbox the suite made.
type pod struct {
	id, uid string
	cfg     cri.SandboxConfig
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// pull pulls the suite's image and returns its ID.
func (s *suite) pull() string {
	s.t.Helper()
	id, err := s.rt.PullImage(s.ctx, s.env.Image, nil)
	if err != nil {
		s.t.Fatalf("PullImage(%s): %v", s.env.Image, err)
	}
	if id == "" {
		s.t.Fatalf("PullImage(%s) returned an empty ID", s.env.Image)
	}
	return id
}

// sandbox runs a sandbox with extra labels; it is removed when the case ends.
func (s *suite) sandbox(extra map[string]string) pod {
	s.t.Helper()
	uid := "uid-" + randomHex(6)
	labels := map[string]string{
		cri.LabelPodUID: uid, cri.LabelPodNamespace: "default", cri.LabelPodName: "pod-" + uid,
	}
	for k, v := range extra {
		labels[k] = v
	}
	cfg := cri.SandboxConfig{
		Name:        "default_pod-" + uid + "_" + uid + "_0",
		Hostname:    "pod-" + uid,
		NetNSPath:   s.env.NetNS(s.t),
		Labels:      labels,
		Annotations: map[string]string{"example.com/note": "a note"},
	}
	id, err := s.rt.RunPodSandbox(s.ctx, cfg)
	if err != nil {
		s.t.Fatalf("RunPodSandbox: %v", err)
	}
	s.t.Cleanup(func() {
		if err := s.rt.RemovePodSandbox(s.ctx, id); err != nil {
			s.t.Errorf("cleanup: RemovePodSandbox(%s): %v", id, err)
		}
	})
	return pod{id: id, uid: uid, cfg: cfg}
}

// create creates a container that behaves as b in p; edit, if not nil,
// adjusts its config. It is removed when the case ends.
func (s *suite) create(p pod, name string, b Behaviour, edit func(*cri.ContainerConfig)) string {
	s.t.Helper()
	cmd, args := s.env.Command(b)
	cfg := cri.ContainerConfig{
		Name: name, Image: s.env.Image, Command: cmd, Args: args,
		Env:    []string{"CONFORMANCE=1"},
		Labels: map[string]string{cri.LabelAttempt: "0", "example.com/role": name},
	}
	if edit != nil {
		edit(&cfg)
	}
	id, err := s.rt.CreateContainer(s.ctx, p.id, cfg)
	if err != nil {
		s.t.Fatalf("CreateContainer(%s): %v", name, err)
	}
	s.t.Cleanup(func() {
		if err := s.rt.RemoveContainer(s.ctx, id); err != nil {
			s.t.Errorf("cleanup: RemoveContainer(%s): %v", id, err)
		}
	})
	return id
}

// start starts container id, created as b.
func (s *suite) start(id string, b Behaviour) {
	s.t.Helper()
	if err := s.rt.StartContainer(s.ctx, id); err != nil {
		s.t.Fatalf("StartContainer(%s): %v", id, err)
	}
	if s.env.Started != nil {
		s.env.Started(s.t, id, b)
	}
}

// run creates and starts a container that behaves as b.
func (s *suite) run(p pod, name string, b Behaviour) string {
	s.t.Helper()
	id := s.create(p, name, b, nil)
	s.start(id, b)
	return id
}

// eventually polls cond until it returns nil or the Env's timeout passes.
func (s *suite) eventually(what string, cond func() error) {
	s.t.Helper()
	deadline := time.Now().Add(s.env.Timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: still not true after %v: %v", what, s.env.Timeout, err)
		}
		select {
		case <-tick.C:
		case <-s.ctx.Done():
			s.t.Fatalf("%s: %v (last: %v)", what, s.ctx.Err(), err)
		}
	}
}

// waitState waits until container id is in state want and returns it.
func (s *suite) waitState(id string, want cri.ContainerState) cri.Container {
	s.t.Helper()
	var c cri.Container
	s.eventually(fmt.Sprintf("container %s %s", id, want), func() error {
		var err error
		c, err = s.rt.ContainerStatus(s.ctx, id)
		if err != nil {
			return err
		}
		if c.State != want {
			return fmt.Errorf("state %s", c.State)
		}
		return nil
	})
	return c
}

// events subscribes to the runtime's events until the case ends.
func (s *suite) events(rt cri.Runtime) <-chan cri.Event {
	s.t.Helper()
	ctx, cancel := context.WithCancel(s.ctx)
	s.t.Cleanup(cancel)
	ch, err := rt.Events(ctx)
	if err != nil {
		s.t.Fatalf("Events: %v", err)
	}
	return ch
}

// waitEvent reads ch until an event of type typ for id arrives.
func (s *suite) waitEvent(ch <-chan cri.Event, typ cri.EventType, id string) cri.Event {
	s.t.Helper()
	timer := time.NewTimer(s.env.Timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				s.t.Fatalf("event stream closed while waiting for %s of %s", typ, id)
			}
			if ev.Type == typ && ev.ContainerID == id {
				return ev
			}
		case <-timer.C:
			s.t.Fatalf("no %s event for %s within %v", typ, id, s.env.Timeout)
		}
	}
}

// waitPodEvent waits for an event of type typ for id and checks its pod.
func (s *suite) waitPodEvent(ch <-chan cri.Event, typ cri.EventType, id, uid string) {
	s.t.Helper()
	if ev := s.waitEvent(ch, typ, id); ev.PodUID != uid {
		s.t.Errorf("%s event %+v, want pod UID %s", typ, ev, uid)
	}
}

// hasLabels reports the labels of want that got lacks or differs on.
func hasLabels(got, want map[string]string) error {
	for k, v := range want {
		if got[k] != v {
			return fmt.Errorf("label %s = %q, want %q (labels %v)", k, got[k], v, got)
		}
	}
	return nil
}
