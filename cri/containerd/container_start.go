package containerd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/v2/pkg/cio"

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
	ioCreator, err := r.logIO(rec.Labels[labelLogPath])
	if err != nil {
		return fmt.Errorf("start container %s: %w", id, err)
	}
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return wrap(err, "start container %s", id)
	}
	// The time is taken before the start so that it is never after the
	// exit of a process that ends at once.
	started := map[string]string{labelStartedAt: r.now().UTC().Format(timeFormat)}
	if err := startTask(ctx, c, ioCreator); err != nil {
		return fmt.Errorf("start container %s: %w", id, err)
	}
	if _, err := c.SetLabels(ctx, started); err != nil {
		return fmt.Errorf("start container %s: record start time: %w", id, err)
	}
	return nil
}

// logIO sends a task's stdout and stderr to the logger binary, which the
// shim runs and which outlives the agent; no log path, no output.
func (r *Runtime) logIO(logPath string) (cio.Creator, error) {
	if logPath == "" {
		return cio.NullIO, nil
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	return cio.BinaryIO(r.cfg.LoggerBinary, map[string]string{r.cfg.LoggerCommand: logPath}), nil
}
