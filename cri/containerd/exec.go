package containerd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/internal/podlabels"
)

// ExecSync implements cri.Runtime: cmd runs as the container's process
// does (user, env, cwd, capabilities), with its output captured through
// FIFOs. Past timeout (0: none) it is killed and the error wraps
// context.DeadlineExceeded.
func (r *Runtime) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (cri.ExecResult, error) {
	ctx = r.ns(ctx)
	task, proc, err := r.execTarget(ctx, id)
	if err != nil {
		return cri.ExecResult{}, fmt.Errorf("exec in %w", err)
	}
	proc.Args, proc.Terminal = cmd, false
	var stdout, stderr bytes.Buffer
	ioCreator := cio.NewCreator(cio.WithStreams(nil, &stdout, &stderr), cio.WithFIFODir(r.cfg.FIFODir))
	p, err := task.Exec(ctx, "exec-"+newID()[:24], &proc, ioCreator)
	if err != nil {
		return cri.ExecResult{}, fmt.Errorf("exec in container %s: %w", id, err)
	}
	code, runErr := r.runExec(ctx, p, timeout)
	// Delete cancels the copy (it closes our ends of the FIFOs) before it
	// waits, so output still in flight would be lost: first let the copy
	// reach EOF, which comes when the shim closes its ends.
	drainIO(p.IO(), execDrainTimeout)
	if _, err := p.Delete(context.WithoutCancel(ctx)); err != nil && runErr == nil {
		runErr = err
	}
	res := cri.ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: code}
	if runErr != nil {
		return res, fmt.Errorf("exec %q in container %s: %w", cmd, id, runErr)
	}
	return res, nil
}

// execTarget returns running container id's task and the process spec an
// exec in it starts from (user, env, cwd, capabilities of the container's
// process), and makes sure the FIFO directory exists.
func (r *Runtime) execTarget(ctx context.Context, id string) (client.Task, specs.Process, error) {
	if _, err := r.record(ctx, id, podlabels.KindContainer); err != nil {
		return nil, specs.Process{}, err
	}
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return nil, specs.Process{}, wrap(err, "container %s", id)
	}
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil, specs.Process{}, fmt.Errorf("container %s: %w", id, cri.ErrNotRunning)
	}
	if err != nil {
		return nil, specs.Process{}, fmt.Errorf("container %s: %w", id, err)
	}
	if st, err := task.Status(ctx); err != nil || st.Status != client.Running {
		return nil, specs.Process{}, errors.Join(fmt.Errorf("container %s: %w", id, cri.ErrNotRunning), ignoreNotFound(err))
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return nil, specs.Process{}, fmt.Errorf("container %s: %w", id, err)
	}
	if err := os.MkdirAll(r.cfg.FIFODir, 0o700); err != nil {
		return nil, specs.Process{}, fmt.Errorf("container %s: %w", id, err)
	}
	return task, *spec.Process, nil
}

// execDrainTimeout bounds the wait for an exec's output after it exited:
// a background child that keeps stdout open would hold it forever.
const execDrainTimeout = 2 * time.Second

// drainIO waits until the process's output is copied, at most d.
func drainIO(pio cio.IO, d time.Duration) {
	if pio == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		pio.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// runExec starts p and waits for its exit code, killing it after timeout.
func (r *Runtime) runExec(ctx context.Context, p client.Process, timeout time.Duration) (int32, error) {
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	exited, err := p.Wait(waitCtx)
	if err != nil {
		return 0, err
	}
	if err := p.Start(ctx); err != nil {
		return 0, err
	}
	var expired <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case st := <-exited:
		code, _, err := st.Result()
		return int32(code), err
	case <-expired:
	case <-ctx.Done():
	}
	if err := p.Kill(context.WithoutCancel(ctx), syscall.SIGKILL); ignoreNotFound(err) != nil {
		return 0, fmt.Errorf("kill after timeout: %w", err)
	}
	if err := r.waitExit(context.WithoutCancel(ctx), exited, r.cfg.KillTimeout); err != nil {
		return 0, err
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return 0, fmt.Errorf("timed out after %v: %w", timeout, context.DeadlineExceeded)
}
