package fake

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/internal/ctrio"
)

// StreamExecHandler plays Exec of cmd in container id: it reads s.Stdin,
// writes s.Stdout and s.Stderr and returns the exit code.
type StreamExecHandler func(id string, cmd []string, s cri.Streams) (int32, error)

// Conn is one end of a connection, closable one direction at a time.
type Conn interface {
	io.ReadWriteCloser
	CloseWrite() error
}

// PortHandler plays a server listening on a sandbox's port: it serves one
// forwarded connection.
type PortHandler func(conn Conn)

// Exec implements cri.Runtime with the handler set by
// SetStreamExecHandler; without one, it answers as ExecSync does, its
// output written to s.
func (f *Fake) Exec(ctx context.Context, id string, cmd []string, s cri.Streams) (int32, error) {
	st := f.st
	st.mu.Lock()
	err := st.takeFailure("Exec")
	if err == nil {
		_, err = st.running(id)
	}
	handler, syncHandler := st.streamExec, st.exec
	st.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", id, err)
	}
	if handler != nil {
		return handler(id, slices.Clone(cmd), s)
	}
	res, err := syncHandler(id, slices.Clone(cmd))
	writeTo(s.Stdout, res.Stdout)
	writeTo(s.Stderr, res.Stderr)
	return res.ExitCode, err
}

func writeTo(w io.Writer, b []byte) {
	if w != nil && len(b) > 0 {
		w.Write(b)
	}
}

// Attach implements cri.Runtime: a container with stdin or a TTY is
// attached to its stdio (which Stdio gives the test's process), another
// one's log is followed (WriteLog). A terminal's size goes to TermSize.
func (f *Fake) Attach(ctx context.Context, id string, s cri.Streams) error {
	st := f.st
	st.mu.Lock()
	err := st.takeFailure("Attach")
	var c *container
	if err == nil {
		c, err = st.running(id)
	}
	st.mu.Unlock()
	if err != nil {
		return fmt.Errorf("attach to container %s: %w", id, err)
	}
	if c.stdio == nil {
		return ctrio.FollowLog(ctx, c.LogPath, s, func() bool { return f.isRunning(c) })
	}
	if c.cfg.TTY && s.Resize != nil {
		go f.takeSizes(ctx, c, s.Resize)
	}
	return c.stdio.Attach(ctx, s, nil)
}

func (f *Fake) isRunning(c *container) bool {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	return c.State == cri.ContainerRunning
}

// takeSizes records the terminal sizes of an attached client.
func (f *Fake) takeSizes(ctx context.Context, c *container, sizes <-chan cri.TermSize) {
	for {
		select {
		case sz, ok := <-sizes:
			if !ok {
				return
			}
			f.st.mu.Lock()
			c.termSize = sz
			f.st.mu.Unlock()
		case <-ctx.Done():
			return
		}
	}
}

// PortForward implements cri.Runtime: the connection goes to the handler
// ServePort set for the sandbox's port; without one it is refused.
func (f *Fake) PortForward(ctx context.Context, sandboxID string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	st := f.st
	st.mu.Lock()
	err := st.takeFailure("PortForward")
	sb, ok := st.sandboxes[sandboxID]
	handler := st.ports[sandboxID][port]
	st.mu.Unlock()
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("port forward: %w", notFound("sandbox", sandboxID))
	case sb.State != cri.SandboxReady:
		return fmt.Errorf("port forward to sandbox %s: %w", sandboxID, cri.ErrNotRunning)
	case handler == nil:
		return fmt.Errorf("port forward to sandbox %s: dial 127.0.0.1:%d: connection refused", sandboxID, port)
	}
	client, server := connPair()
	go handler(server)
	return ctrio.Splice(client, stream)
}

// memConn is one end of an in-memory connection: two pipes.
type memConn struct {
	r *io.PipeReader
	w *io.PipeWriter
}

func connPair() (memConn, memConn) {
	ar, bw := io.Pipe()
	br, aw := io.Pipe()
	return memConn{r: ar, w: aw}, memConn{r: br, w: bw}
}

func (c memConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c memConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c memConn) CloseWrite() error           { return c.w.Close() }
func (c memConn) Close() error                { c.w.Close(); return c.r.Close() }
