package containerd

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/moby/sys/signal"

	"github.com/nodeagent/nodeagent/cri/internal/podlabels"
)

// StopContainer implements cri.Runtime: the stop signal (the config's, the
// image's or SIGTERM), up to timeout, then SIGKILL. A container that does
// not run is left alone. The task stays, with its exit status, until
// RemoveContainer.
func (r *Runtime) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	ctx = r.ns(ctx)
	rec, err := r.record(ctx, id, podlabels.KindContainer)
	if err != nil {
		return fmt.Errorf("stop %w", err)
	}
	sig, err := signal.ParseSignal(rec.Labels[labelStopSignal])
	if err != nil {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return wrap(err, "stop container %s", id)
	}
	return wrap(r.stopTask(ctx, c, sig, timeout), "stop container %s", id)
}

// RemoveContainer implements cri.Runtime: its task (killed if it still
// runs), the container and its snapshot go.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	ctx = r.ns(ctx)
	if _, err := r.record(ctx, id, podlabels.KindContainer); err != nil {
		return ignoreCRINotFound(err)
	}
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return ignoreNotFound(err)
	}
	return wrap(r.removeContainer(ctx, c), "remove container %s", id)
}

// removeContainer deletes c's task, c and its snapshot; what is gone
// already is not an error.
func (r *Runtime) removeContainer(ctx context.Context, c client.Container) error {
	if err := deleteTask(ctx, c); err != nil {
		return fmt.Errorf("delete task: %w", err)
	}
	if err := r.removeStdio(c.ID()); err != nil {
		return fmt.Errorf("remove stdio: %w", err)
	}
	return ignoreNotFound(c.Delete(ctx, client.WithSnapshotCleanup))
}
