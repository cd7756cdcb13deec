package containerd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/v2/pkg/cio"

	"github.com/nodeagent/nodeagent/cri/crilog"
	"github.com/nodeagent/nodeagent/cri/crilogger"
	"github.com/nodeagent/nodeagent/cri/internal/ctrio"
	"github.com/nodeagent/nodeagent/cri/internal/podlabels"
)

// StartContainer implements cri.Runtime: it creates and starts the task,
// whose stdout and stderr go to the logger binary, and records the start
// time as a label.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	ctx = r.ns(ctx)
	rec, err := r.record(ctx, id, podlabels.KindContainer)
	if err != nil {
		return fmt.Errorf("start %w", err)
	}
	task, err := r.taskOf(ctx, id)
	if err != nil {
		return err
	}
	if task != nil || rec.Labels[labelStartedAt] != "" {
		return fmt.Errorf("start container %s: it was started before", id)
	}
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return wrap(err, "start container %s", id)
	}
	ioCreator, stdio, err := r.taskIO(id, rec.Labels)
	if err != nil {
		return fmt.Errorf("start container %s: %w", id, err)
	}
	// The time is taken before the start so that it is never after the
	// exit of a process that ends at once.
	started := map[string]string{labelStartedAt: r.now().UTC().Format(timeFormat)}
	t, err := startTask(ctx, c, ioCreator)
	if err != nil {
		if stdio != nil {
			stdio.CloseOutput()
		}
		return fmt.Errorf("start container %s: %w", id, err)
	}
	if stdio != nil {
		r.keepStdio(id, t, stdio)
	}
	if _, err := c.SetLabels(ctx, started); err != nil {
		return fmt.Errorf("start container %s: record start time: %w", id, err)
	}
	return nil
}

// taskIO is a container task's IO: for a container that keeps stdin or a
// TTY, FIFOs to the stdio the runtime keeps (returned); else its output to
// the logger binary.
func (r *Runtime) taskIO(id string, labels map[string]string) (cio.Creator, *ctrio.IO, error) {
	cfg, ok := stdioConfig(labels)
	if !ok {
		creator, err := r.logIO(labels[labelLogPath], rotationOf(labels))
		return creator, nil, err
	}
	stdio, err := r.openStdio(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cio.NewCreator(r.stdioStreams(id, stdio, cfg.TTY)...), stdio, nil
}

// logIO sends a task's stdout and stderr to the logger binary, which the
// shim runs, which outlives the agent and rotates the log as rot says; no
// log path, no output.
func (r *Runtime) logIO(logPath string, rot crilog.Rotation) (cio.Creator, error) {
	if logPath == "" {
		return cio.NullIO, nil
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	return cio.BinaryIO(r.cfg.LoggerBinary, map[string]string{r.cfg.LoggerCommand: crilogger.Arg(logPath, rot)}), nil
}
