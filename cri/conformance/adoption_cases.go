package conformance

import (
	"context"
	"maps"
	"time"

	"github.com/nodeagent/nodeagent/cri"
)

// testAdoption: a new Runtime over the same state (a restarted agent) sees
// the same sandboxes and containers, and can stop them and get their events.
func testAdoption(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	id := s.run(p, "app", Behaviour{Kind: Pause})
	before := s.waitState(id, cri.ContainerRunning)
	sandboxes, err := s.rt.ListPodSandboxes(s.ctx, nil)
	if err != nil {
		s.t.Fatalf("ListPodSandboxes: %v", err)
	}

	rt := s.env.Reopen(s.t)
	again, err := rt.ListPodSandboxes(s.ctx, nil)
	if err != nil {
		s.t.Fatalf("reopened ListPodSandboxes: %v", err)
	}
	if !sameSandboxes(sandboxes, again) {
		s.t.Errorf("reopened runtime lists sandboxes %+v, want %+v", again, sandboxes)
	}
	list, err := rt.ListContainers(s.ctx, map[string]string{cri.LabelPodUID: p.uid})
	if err != nil || len(list) != 1 {
		s.t.Fatalf("reopened ListContainers = %+v, %v; want one", list, err)
	}
	after := list[0]
	if after.ID != id || after.Pid != before.Pid || after.State != cri.ContainerRunning ||
		!after.StartedAt.Equal(before.StartedAt) || !maps.Equal(after.Labels, before.Labels) ||
		after.ImageID != before.ImageID || after.SandboxID != p.id {
		s.t.Errorf("reopened runtime sees %+v, want %+v", after, before)
	}
	events := s.events(rt)
	if err := rt.StopContainer(s.ctx, id, 10*time.Second); err != nil {
		s.t.Fatalf("reopened StopContainer: %v", err)
	}
	ev := s.waitEvent(events, cri.EventContainerExited, id)
	if ev.PodUID != p.uid {
		s.t.Errorf("exit event %+v, want pod UID %s", ev, p.uid)
	}
}

func sameSandboxes(a, b []cri.Sandbox) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.Name != y.Name || x.State != y.State || x.Pid != y.Pid ||
			x.NetNSPath != y.NetNSPath || !x.CreatedAt.Equal(y.CreatedAt) || !maps.Equal(x.Labels, y.Labels) {
			return false
		}
	}
	return true
}

// testEventsEndWithContext: the event channel closes when its context ends.
func testEventsEndWithContext(s *suite) {
	ctx, cancel := context.WithCancel(s.ctx)
	ch, err := s.rt.Events(ctx)
	if err != nil {
		s.t.Fatalf("Events: %v", err)
	}
	cancel()
	timer := time.NewTimer(s.env.Timeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timer.C:
			s.t.Fatalf("event channel still open %v after its context ended", s.env.Timeout)
		}
	}
}
