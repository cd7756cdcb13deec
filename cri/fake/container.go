package fake

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/internal/ctrio"
	"github.com/nodeagent/nodeagent/cri/internal/podlabels"
)

// CreateContainer implements cri.Runtime. The sandbox must be Ready and the
// image present.
func (f *Fake) CreateContainer(ctx context.Context, sandboxID string, cfg cri.ContainerConfig) (string, error) {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("CreateContainer"); err != nil {
		return "", err
	}
	sb, ok := s.sandboxes[sandboxID]
	if !ok {
		return "", notFound("sandbox", sandboxID)
	}
	if sb.State != cri.SandboxReady {
		return "", fmt.Errorf("create container %q: sandbox %s is not ready", cfg.Name, sandboxID)
	}
	img := s.findImage(cfg.Image)
	if img == nil {
		return "", notFound("image", cfg.Image)
	}
	if err := checkDevices(cfg.Devices); err != nil {
		return "", err
	}
	if err := cfg.LogRotation.Validate(); err != nil {
		return "", fmt.Errorf("create container %q: %w", cfg.Name, err)
	}
	id := s.newID("container-")
	labels := podlabels.Container(sb.Labels, cfg)
	s.containers[id] = &container{
		Container: cri.Container{
			ID: id, SandboxID: sandboxID, Name: cfg.Name,
			Image: cfg.Image, ImageID: img.ID,
			State: cri.ContainerCreated, CreatedAt: s.now(),
			Labels: labels, LogPath: cfg.LogPath,
		},
		cfg:    cfg,
		exited: make(chan struct{}),
	}
	s.publish(cri.EventContainerCreated, id, labels)
	return id, nil
}

// StartContainer implements cri.Runtime: a Created container becomes Running.
func (f *Fake) StartContainer(ctx context.Context, id string) error {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("StartContainer"); err != nil {
		return err
	}
	c, ok := s.containers[id]
	if !ok {
		return notFound("container", id)
	}
	if c.State != cri.ContainerCreated {
		return fmt.Errorf("start container %s: it is %s, not %s", id, c.State, cri.ContainerCreated)
	}
	if c.cfg.Stdin || c.cfg.TTY {
		stdio, err := ctrio.Open(ctrio.Config{LogPath: c.LogPath, LogRotation: c.cfg.LogRotation, Stdin: c.cfg.Stdin,
			StdinOnce: c.cfg.StdinOnce, TTY: c.cfg.TTY, Now: s.now})
		if err != nil {
			return fmt.Errorf("start container %s: %w", id, err)
		}
		c.stdio = stdio
	}
	c.State, c.StartedAt, c.Pid = cri.ContainerRunning, s.now(), s.newPid()
	s.publish(cri.EventContainerStarted, id, c.Labels)
	return nil
}

// StopContainer implements cri.Runtime. A running container exits at once
// with ExitCodeSIGTERM, unless IgnoreTerm was called for it: then it exits
// with ExitCodeSIGKILL after timeout. A timeout of 0 kills at once.
func (f *Fake) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	s := f.st
	s.mu.Lock()
	if err := s.takeFailure("StopContainer"); err != nil {
		s.mu.Unlock()
		return err
	}
	c, ok := s.containers[id]
	switch {
	case !ok:
		s.mu.Unlock()
		return notFound("container", id)
	case c.State != cri.ContainerRunning:
	case timeout <= 0:
		s.exit(c, ExitCodeSIGKILL, "")
	case !c.ignoreTerm:
		s.exit(c, ExitCodeSIGTERM, "")
	default:
		s.mu.Unlock()
		return f.killAfter(ctx, c, timeout)
	}
	s.mu.Unlock()
	return nil
}

// killAfter kills c unless it exits within timeout.
func (f *Fake) killAfter(ctx context.Context, c *container, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-c.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop container %s: %w", c.ID, ctx.Err())
	case <-timer.C:
	}
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	if c.State == cri.ContainerRunning {
		f.st.exit(c, ExitCodeSIGKILL, "")
	}
	return nil
}

// exit moves c to Exited; the caller holds the lock.
func (s *state) exit(c *container, code int32, reason string) {
	if reason == "" {
		reason = "Error"
		if code == 0 {
			reason = "Completed"
		}
	}
	c.State, c.ExitCode, c.Reason = cri.ContainerExited, code, reason
	c.FinishedAt, c.Pid = s.now(), 0
	if c.stdio != nil {
		c.stdio.CloseOutput()
	}
	close(c.exited)
	s.publish(cri.EventContainerExited, c.ID, c.Labels)
}

// RemoveContainer implements cri.Runtime; a running container is killed.
func (f *Fake) RemoveContainer(ctx context.Context, id string) error {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("RemoveContainer"); err != nil {
		return err
	}
	if c, ok := s.containers[id]; ok {
		s.removeContainer(c)
	}
	return nil
}

// removeContainer kills and forgets c; the caller holds the lock.
func (s *state) removeContainer(c *container) {
	if c.State == cri.ContainerRunning {
		s.exit(c, ExitCodeSIGKILL, "")
	}
	delete(s.containers, c.ID)
	s.publish(cri.EventContainerDeleted, c.ID, c.Labels)
}

// ListContainers implements cri.Runtime, ordered by creation.
func (f *Fake) ListContainers(ctx context.Context, filter map[string]string) ([]cri.Container, error) {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("ListContainers"); err != nil {
		return nil, err
	}
	var out []cri.Container
	for _, c := range s.containers {
		if podlabels.Match(c.Labels, filter) {
			out = append(out, c.snapshot())
		}
	}
	slices.SortFunc(out, func(a, b cri.Container) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// ContainerStatus implements cri.Runtime.
func (f *Fake) ContainerStatus(ctx context.Context, id string) (cri.Container, error) {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("ContainerStatus"); err != nil {
		return cri.Container{}, err
	}
	c, ok := s.containers[id]
	if !ok {
		return cri.Container{}, notFound("container", id)
	}
	return c.snapshot(), nil
}

// snapshot returns a copy of c that shares nothing with the fake's state.
func (c *container) snapshot() cri.Container {
	out := c.Container
	out.Labels = maps.Clone(c.Labels)
	return out
}

// ExecSync implements cri.Runtime with the handler set by SetExecHandler.
func (f *Fake) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (cri.ExecResult, error) {
	s := f.st
	s.mu.Lock()
	err := s.takeFailure("ExecSync")
	c, ok := s.containers[id]
	var st cri.ContainerState
	if ok {
		st = c.State
	}
	handler := s.exec
	s.mu.Unlock()
	switch {
	case err != nil:
		return cri.ExecResult{}, err
	case !ok:
		return cri.ExecResult{}, notFound("container", id)
	case st != cri.ContainerRunning:
		return cri.ExecResult{}, fmt.Errorf("exec in container %s: it is %s, not running", id, st)
	}
	return handler(id, slices.Clone(cmd))
}

// checkDevices refuses, as containerd does, a device whose host path is
// no device node.
func checkDevices(devs []cri.Device) error {
	for _, d := range devs {
		st, err := os.Stat(d.HostPath)
		if err != nil {
			return fmt.Errorf("device %s: %w", d.HostPath, err)
		}
		if st.Mode()&os.ModeDevice == 0 {
			return fmt.Errorf("device %s: not a device node", d.HostPath)
		}
	}
	return nil
}
