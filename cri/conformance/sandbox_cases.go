package conformance

import (
	"errors"

	"github.com/nodeagent/nodeagent/cri"
)

func testSandboxLifecycle(s *suite) {
	p := s.sandbox(map[string]string{"example.com/tier": "web"})
	other := s.sandbox(nil)
	got, err := s.rt.ListPodSandboxes(s.ctx, map[string]string{cri.LabelPodUID: p.uid})
	if err != nil {
		s.t.Fatalf("ListPodSandboxes: %v", err)
	}
	if len(got) != 1 {
		s.t.Fatalf("ListPodSandboxes(uid %s) = %+v, want exactly one", p.uid, got)
	}
	sb := got[0]
	if sb.ID != p.id || sb.Name != p.cfg.Name || sb.State != cri.SandboxReady || sb.Pid <= 0 ||
		sb.NetNSPath != p.cfg.NetNSPath || sb.CreatedAt.IsZero() {
		s.t.Errorf("sandbox = %+v, want ID %s, name %s, Ready with a pid, netns %s, a creation time",
			sb, p.id, p.cfg.Name, p.cfg.NetNSPath)
	}
	if err := hasLabels(sb.Labels, p.cfg.Labels); err != nil {
		s.t.Error(err)
	}
	if sb.Labels[cri.LabelKind] != "sandbox" {
		s.t.Errorf("label %s = %q, want sandbox", cri.LabelKind, sb.Labels[cri.LabelKind])
	}
	s.assertSandboxCount(map[string]string{"example.com/tier": "web"}, 1)
	s.assertSandboxCount(map[string]string{"example.com/tier": "db"}, 0)
	s.assertSandboxCount(map[string]string{cri.LabelPodUID: other.uid}, 1)

	events := s.events(s.rt)
	if err := s.rt.StopPodSandbox(s.ctx, p.id); err != nil {
		s.t.Fatalf("StopPodSandbox: %v", err)
	}
	if ev := s.waitEvent(events, cri.EventSandboxExited, p.id); ev.PodUID != p.uid {
		s.t.Errorf("sandbox exit event %+v, want pod UID %s", ev, p.uid)
	}
	got, err = s.rt.ListPodSandboxes(s.ctx, map[string]string{cri.LabelPodUID: p.uid})
	if err != nil || len(got) != 1 || got[0].State != cri.SandboxNotReady || got[0].Pid != 0 {
		s.t.Errorf("after StopPodSandbox: %+v, %v; want one NotReady sandbox with pid 0", got, err)
	}
	if err := s.rt.StopPodSandbox(s.ctx, p.id); err != nil {
		s.t.Errorf("second StopPodSandbox: %v", err)
	}
	for _, id := range []string{p.id, other.id} {
		if err := s.rt.RemovePodSandbox(s.ctx, id); err != nil {
			s.t.Fatalf("RemovePodSandbox(%s): %v", id, err)
		}
	}
	s.assertSandboxCount(nil, 0)
	if err := s.rt.RemovePodSandbox(s.ctx, p.id); err != nil {
		s.t.Errorf("RemovePodSandbox of a removed sandbox: %v, want nil", err)
	}
	if s.env.AssertClean != nil {
		s.env.AssertClean(s.t)
	}
}

func (s *suite) assertSandboxCount(filter map[string]string, want int) {
	s.t.Helper()
	got, err := s.rt.ListPodSandboxes(s.ctx, filter)
	if err != nil {
		s.t.Fatalf("ListPodSandboxes(%v): %v", filter, err)
	}
	if len(got) != want {
		s.t.Errorf("ListPodSandboxes(%v) = %d sandboxes (%+v), want %d", filter, len(got), got, want)
	}
}

func testRemoveSandboxRemovesContainers(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	s.run(p, "app", Behaviour{Kind: Pause})
	s.create(p, "sidecar", Behaviour{Kind: Pause}, nil)
	if err := s.rt.StopPodSandbox(s.ctx, p.id); err != nil {
		s.t.Fatalf("StopPodSandbox: %v", err)
	}
	cs, err := s.rt.ListContainers(s.ctx, map[string]string{cri.LabelPodUID: p.uid})
	if err != nil {
		s.t.Fatalf("ListContainers: %v", err)
	}
	for _, c := range cs {
		if c.State == cri.ContainerRunning {
			s.t.Errorf("container %s (%s) still running after StopPodSandbox", c.ID, c.Name)
		}
	}
	if err := s.rt.RemovePodSandbox(s.ctx, p.id); err != nil {
		s.t.Fatalf("RemovePodSandbox: %v", err)
	}
	if cs, err := s.rt.ListContainers(s.ctx, nil); err != nil || len(cs) != 0 {
		s.t.Errorf("ListContainers after RemovePodSandbox = %+v, %v; want none", cs, err)
	}
	s.assertSandboxCount(nil, 0)
	if s.env.AssertClean != nil {
		s.env.AssertClean(s.t)
	}
}

func testNotFound(s *suite) {
	const id = "0123456789abcdef0123456789abcdef"
	ctx, rt := s.ctx, s.rt
	check := func(what string, err error) {
		s.t.Helper()
		if !errors.Is(err, cri.ErrNotFound) {
			s.t.Errorf("%s of a missing object: err = %v, want ErrNotFound", what, err)
		}
	}
	check("StopPodSandbox", rt.StopPodSandbox(ctx, id))
	_, err := rt.CreateContainer(ctx, id, cri.ContainerConfig{Name: "c", Image: s.env.Image})
	check("CreateContainer in a missing sandbox", err)
	check("StartContainer", rt.StartContainer(ctx, id))
	check("StopContainer", rt.StopContainer(ctx, id, 0))
	_, err = rt.ContainerStatus(ctx, id)
	check("ContainerStatus", err)
	_, err = rt.ExecSync(ctx, id, []string{"true"}, 0)
	check("ExecSync", err)
	_, err = rt.ImageStatus(ctx, "127.0.0.1:5000/nodeagent/no-such-image:v0")
	check("ImageStatus", err)
	if err := rt.RemoveContainer(ctx, id); err != nil {
		s.t.Errorf("RemoveContainer of a missing container: %v, want nil", err)
	}
	if err := rt.RemovePodSandbox(ctx, id); err != nil {
		s.t.Errorf("RemovePodSandbox of a missing sandbox: %v, want nil", err)
	}
	s.pull()
	p := s.sandbox(nil)
	_, err = rt.CreateContainer(ctx, p.id, cri.ContainerConfig{Name: "c", Image: "127.0.0.1:5000/nodeagent/no-such-image:v0"})
	check("CreateContainer from a missing image", err)
}
