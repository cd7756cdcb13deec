package fake

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/internal/podlabels"
)

// RunPodSandbox implements cri.Runtime: the sandbox is Ready at once.
func (f *Fake) RunPodSandbox(ctx context.Context, cfg cri.SandboxConfig) (string, error) {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("RunPodSandbox"); err != nil {
		return "", err
	}
	id := s.newID("sandbox-")
	s.sandboxes[id] = &sandbox{
		Sandbox: cri.Sandbox{
			ID:        id,
			Name:      cfg.Name,
			State:     cri.SandboxReady,
			CreatedAt: s.now(),
			NetNSPath: cfg.NetNSPath,
			Labels:    podlabels.Sandbox(cfg),
			Pid:       s.newPid(),
		},
		cfg: cfg,
	}
	return id, nil
}

// StopPodSandbox implements cri.Runtime: every running container in the
// sandbox is killed (exit code 137), then the sandbox process.
func (f *Fake) StopPodSandbox(ctx context.Context, id string) error {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("StopPodSandbox"); err != nil {
		return err
	}
	sb, ok := s.sandboxes[id]
	if !ok {
		return notFound("sandbox", id)
	}
	for _, c := range s.containersOf(id) {
		if c.State == cri.ContainerRunning {
			s.exit(c, ExitCodeSIGKILL, "")
		}
	}
	s.stopSandbox(sb)
	return nil
}

// stopSandbox marks sb's process gone; the caller holds the lock.
func (s *state) stopSandbox(sb *sandbox) {
	if sb.State != cri.SandboxReady {
		return
	}
	sb.State, sb.Pid = cri.SandboxNotReady, 0
	s.publish(cri.EventSandboxExited, sb.ID, sb.Labels)
}

// RemovePodSandbox implements cri.Runtime: the sandbox's containers go too.
func (f *Fake) RemovePodSandbox(ctx context.Context, id string) error {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("RemovePodSandbox"); err != nil {
		return err
	}
	sb, ok := s.sandboxes[id]
	if !ok {
		return nil
	}
	for _, c := range s.containersOf(id) {
		s.removeContainer(c)
	}
	s.stopSandbox(sb)
	delete(s.sandboxes, id)
	return nil
}

// ListPodSandboxes implements cri.Runtime, ordered by creation.
func (f *Fake) ListPodSandboxes(ctx context.Context, filter map[string]string) ([]cri.Sandbox, error) {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("ListPodSandboxes"); err != nil {
		return nil, err
	}
	var out []cri.Sandbox
	for _, sb := range s.sandboxes {
		if podlabels.Match(sb.Labels, filter) {
			c := sb.Sandbox
			c.Labels = maps.Clone(sb.Labels)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b cri.Sandbox) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// containersOf lists the containers of sandbox id; the caller holds the lock.
func (s *state) containersOf(id string) []*container {
	var out []*container
	for _, c := range s.containers {
		if c.SandboxID == id {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *container) int { return strings.Compare(a.ID, b.ID) })
	return out
}
