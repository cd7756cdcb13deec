package containerd

import (
	"context"
	"fmt"
	"io"
	"syscall"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"

	"github.com/nodeagent/nodeagent/cri"
)

// Exec implements cri.Runtime: cmd runs as ExecSync's does, its stdio
// connected to s through FIFOs. When the client's stdin ends, the
// process's stdin is closed (the shim holds it open until asked). If ctx
// ends first, the process is killed.
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string, s cri.Streams) (int32, error) {
	ctx = r.ns(ctx)
	task, proc, err := r.execTarget(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("exec in %w", err)
	}
	proc.Args, proc.Terminal = cmd, s.TTY
	stdin, stdinW := execStdin(s.Stdin)
	// The shim needs both outputs (a terminal has one): what the client
	// does not read is discarded.
	stdout, stderr := orDiscard(s.Stdout), orDiscard(s.Stderr)
	opts := []cio.Opt{cio.WithFIFODir(r.cfg.FIFODir)}
	if s.TTY {
		stderr = nil
		opts = append(opts, cio.WithTerminal)
	}
	opts = append(opts, cio.WithStreams(stdin, stdout, stderr))
	p, err := task.Exec(ctx, "exec-"+newID()[:24], &proc, cio.NewCreator(opts...))
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", id, err)
	}
	code, runErr := r.runStreamExec(ctx, p, s, stdinW)
	drainIO(p.IO(), execDrainTimeout)
	if _, err := p.Delete(context.WithoutCancel(ctx)); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return code, fmt.Errorf("exec %q in container %s: %w", cmd, id, runErr)
	}
	return code, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// execStdin is the reader given to the process's stdin FIFO and the
// writer the client's stdin is copied to (nil, nil without stdin).
func execStdin(in io.Reader) (io.Reader, *io.PipeWriter) {
	if in == nil {
		return nil, nil
	}
	return io.Pipe()
}

// runStreamExec starts p, feeds its stdin and terminal size from s, and
// waits for its exit code.
func (r *Runtime) runStreamExec(ctx context.Context, p client.Process, s cri.Streams, stdinW *io.PipeWriter) (int32, error) {
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	exited, err := p.Wait(waitCtx)
	if err != nil {
		return 0, err
	}
	if err := p.Start(ctx); err != nil {
		return 0, err
	}
	if stdinW != nil {
		go copyStdin(waitCtx, p, s.Stdin, stdinW)
	}
	if s.TTY && s.Resize != nil {
		go resizeLoop(waitCtx, s.Resize, p.Resize)
	}
	select {
	case st := <-exited:
		code, _, err := st.Result()
		return int32(code), err
	case <-ctx.Done():
	}
	if err := p.Kill(context.WithoutCancel(ctx), syscall.SIGKILL); ignoreNotFound(err) != nil {
		return 0, fmt.Errorf("kill after the client left: %w", err)
	}
	r.waitExit(context.WithoutCancel(ctx), exited, r.cfg.KillTimeout)
	return 0, ctx.Err()
}

// copyStdin copies the client's stdin to the process; at its end it
// closes the process's stdin: our FIFO end (through the pipe) and the
// shim's.
func copyStdin(ctx context.Context, p client.Process, in io.Reader, w *io.PipeWriter) {
	io.Copy(w, in)
	w.Close()
	p.CloseIO(context.WithoutCancel(ctx), client.WithStdinCloser)
}

// resizeLoop applies terminal sizes until sizes closes or ctx ends.
func resizeLoop(ctx context.Context, sizes <-chan cri.TermSize, resize func(context.Context, uint32, uint32) error) {
	for {
		select {
		case sz, ok := <-sizes:
			if !ok {
				return
			}
			resize(ctx, uint32(sz.Width), uint32(sz.Height))
		case <-ctx.Done():
			return
		}
	}
}
