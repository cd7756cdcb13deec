package fake

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/crilog"
)

// Test hooks: they play what a real runtime's processes and registries do.

// SetClock sets the clock that stamps creation, start, finish and event
// times.
func (f *Fake) SetClock(now func() time.Time) {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	f.st.now = now
}

// SetExecHandler sets what ExecSync answers.
func (f *Fake) SetExecHandler(h ExecHandler) {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	f.st.exec = h
}

// FailNextPull makes the next PullImage of ref fail with err; calls queue.
func (f *Fake) FailNextPull(ref string, err error) {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	f.st.pullErrs[ref] = append(f.st.pullErrs[ref], err)
}

// FailNext makes the next call of the named cri.Runtime method (e.g.
// "StartContainer") fail with err.
func (f *Fake) FailNext(method string, err error) {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	f.st.failNext[method] = err
}

// SetImageSize sets the size of the image with ref (an image ID or a
// reference), which ImageFsInfo counts.
func (f *Fake) SetImageSize(ref string, size int64) error {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	img := f.st.findImage(ref)
	if img == nil {
		return notFound("image", ref)
	}
	img.Size = size
	return nil
}

// SetImageFs sets the image filesystem's size and what takes space there
// besides the images, which ImageFsInfo reports.
func (f *Fake) SetImageFs(capacity, other uint64) {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	f.st.imageFsCapacity, f.st.imageFsOther = capacity, other
}

// AddImage stores an image with ref, as if it had been pulled, and returns it.
func (f *Fake) AddImage(ref string) cri.Image {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	return copyImage(f.st.addImage(ref))
}

// ExitContainer makes running container id exit with code. An empty reason
// becomes "Completed" for code 0 and "Error" otherwise.
func (f *Fake) ExitContainer(id string, code int32, reason string) error {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	c, err := f.st.running(id)
	if err != nil {
		return err
	}
	f.st.exit(c, code, reason)
	return nil
}

// OOM makes running container id run out of memory: an EventContainerOOM,
// then it exits with code 137 and reason "OOMKilled".
func (f *Fake) OOM(id string) error {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	c, err := f.st.running(id)
	if err != nil {
		return err
	}
	f.st.publish(cri.EventContainerOOM, id, c.Labels)
	f.st.exit(c, ExitCodeSIGKILL, "OOMKilled")
	return nil
}

// IgnoreTerm makes container id ignore its stop signal: StopContainer then
// waits its whole timeout and kills it.
func (f *Fake) IgnoreTerm(id string) error {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	c, ok := f.st.containers[id]
	if !ok {
		return notFound("container", id)
	}
	c.ignoreTerm = true
	return nil
}

// ExitSandbox makes sandbox id's process die: it becomes NotReady.
func (f *Fake) ExitSandbox(id string) error {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	sb, ok := f.st.sandboxes[id]
	if !ok {
		return notFound("sandbox", id)
	}
	f.st.stopSandbox(sb)
	return nil
}

// BreakEvents closes every Events channel, as a broken stream would.
func (f *Fake) BreakEvents() {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	for sub := range f.st.subs {
		f.st.unsubscribe(sub)
	}
}

// WriteLog appends line (without its newline) to container id's log file in
// CRI format, as if the container had written it to stream ("stdout" or
// "stderr"), rotating the log as the container's LogRotation says.
func (f *Fake) WriteLog(id, stream, line string) error {
	f.st.mu.Lock()
	c, ok := f.st.containers[id]
	now := f.st.now
	f.st.mu.Unlock()
	if !ok {
		return notFound("container", id)
	}
	if c.LogPath == "" {
		return fmt.Errorf("write log of container %s: it has no log path", id)
	}
	out, err := crilog.OpenFile(c.LogPath, c.cfg.LogRotation, now)
	if err != nil {
		return fmt.Errorf("write log of container %s: %w", id, err)
	}
	recs, _ := crilog.AppendRecords(nil, now(), stream, []byte(line+"\n"), crilog.MaxLine, true)
	_, err = out.Write(recs)
	return errors.Join(err, out.Close())
}

// running returns container id if it runs; the caller holds the lock.
func (s *state) running(id string) (*container, error) {
	c, ok := s.containers[id]
	if !ok {
		return nil, notFound("container", id)
	}
	if c.State != cri.ContainerRunning {
		return nil, fmt.Errorf("container %s is %s: %w", id, c.State, cri.ErrNotRunning)
	}
	return c, nil
}

// SetStreamExecHandler sets what Exec plays.
func (f *Fake) SetStreamExecHandler(h StreamExecHandler) {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	f.st.streamExec = h
}

// ServePort makes handler serve the connections forwarded to sandbox id's
// port, as a server listening there would.
func (f *Fake) ServePort(id string, port int32, handler PortHandler) error {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	if _, ok := f.st.sandboxes[id]; !ok {
		return notFound("sandbox", id)
	}
	if f.st.ports[id] == nil {
		f.st.ports[id] = map[int32]PortHandler{}
	}
	f.st.ports[id][port] = handler
	return nil
}

// Stdio is the process side of a started container created with stdin or
// a TTY: what it reads as stdin (nil without) and where its output goes
// (stderr nil with a TTY). A test plays the process with them.
func (f *Fake) Stdio(id string) (io.Reader, io.Writer, io.Writer, error) {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	c, ok := f.st.containers[id]
	if !ok {
		return nil, nil, nil, notFound("container", id)
	}
	if c.stdio == nil {
		return nil, nil, nil, fmt.Errorf("container %s keeps no stdio (created without stdin or a TTY, or not started)", id)
	}
	return c.stdio.ProcessStdin(), c.stdio.ProcessStdout(), c.stdio.ProcessStderr(), nil
}

// TermSize is the terminal size an attached client last set for
// container id.
func (f *Fake) TermSize(id string) (cri.TermSize, error) {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	c, ok := f.st.containers[id]
	if !ok {
		return cri.TermSize{}, notFound("container", id)
	}
	return c.termSize, nil
}

// ContainerConfig returns the configuration a container was created with.
func (f *Fake) ContainerConfig(id string) (cri.ContainerConfig, bool) {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	c, ok := f.st.containers[id]
	if !ok {
		return cri.ContainerConfig{}, false
	}
	return c.cfg, true
}

// SandboxConfig returns the configuration a sandbox was run with.
func (f *Fake) SandboxConfig(id string) (cri.SandboxConfig, bool) {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	sb, ok := f.st.sandboxes[id]
	if !ok {
		return cri.SandboxConfig{}, false
	}
	return sb.cfg, true
}
