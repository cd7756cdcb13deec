package containerd

import (
	"context"
	"fmt"

	"github.com/containerd/containerd/v2/client"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/internal/ctrio"
	"github.com/nodeagent/nodeagent/cri/internal/podlabels"
)

// Attach implements cri.Runtime. A container that keeps stdio (created
// with stdin or a TTY) is attached to it; another one's output is followed
// in its log, where it goes.
func (r *Runtime) Attach(ctx context.Context, id string, s cri.Streams) error {
	ctx = r.ns(ctx)
	rec, err := r.record(ctx, id, podlabels.KindContainer)
	if err != nil {
		return fmt.Errorf("attach to %w", err)
	}
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return wrap(err, "attach to container %s", id)
	}
	task, err := c.Task(ctx, nil)
	if err != nil || !r.taskRunning(ctx, task) {
		return fmt.Errorf("attach to container %s: %w", id, cri.ErrNotRunning)
	}
	stdio, ok := r.stdioOf(id)
	if !ok {
		err := ctrio.FollowLog(ctx, rec.Labels[labelLogPath], s, func() bool { return r.taskRunning(ctx, task) })
		return wrapAttach(id, err)
	}
	if cfg, _ := stdioConfig(rec.Labels); cfg.TTY && s.Resize != nil {
		resizeCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		go resizeLoop(resizeCtx, s.Resize, task.Resize)
	}
	closeStdin := func() error {
		return ignoreNotFound(task.CloseIO(context.WithoutCancel(ctx), client.WithStdinCloser))
	}
	return wrapAttach(id, stdio.Attach(ctx, s, closeStdin))
}

func wrapAttach(id string, err error) error {
	if err != nil {
		return fmt.Errorf("attach to container %s: %w", id, err)
	}
	return nil
}

// taskRunning reports whether task's process runs.
func (r *Runtime) taskRunning(ctx context.Context, task client.Task) bool {
	st, err := task.Status(ctx)
	return err == nil && st.Status == client.Running
}
