package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/internal/ctrio"
	"github.com/nodeagent/nodeagent/cri/internal/podlabels"
)

// labelStdio says which stdio a container keeps: "stdin", "stdin-once",
// "tty", comma-separated. A container without it has its output go to
// the logger binary.
const labelStdio = internalPrefix + "stdio"

// stdioDrainTimeout bounds the wait for a container's output after its
// process exited: a child that keeps the terminal or stdout open would
// hold it forever.
const stdioDrainTimeout = 5 * time.Second

// resumeTimeout bounds New's reattachment to running containers.
const resumeTimeout = 30 * time.Second

func stdioLabel(cfg cri.ContainerConfig) string {
	var parts []string
	if cfg.Stdin {
		parts = append(parts, "stdin")
		if cfg.StdinOnce {
			parts = append(parts, "stdin-once")
		}
	}
	if cfg.TTY {
		parts = append(parts, "tty")
	}
	return strings.Join(parts, ",")
}

// stdioConfig is the stdio of a container with these labels, if it keeps one.
func stdioConfig(labels map[string]string) (ctrio.Config, bool) {
	v := labels[labelStdio]
	if v == "" {
		return ctrio.Config{}, false
	}
	set := strings.Split(v, ",")
	return ctrio.Config{LogPath: labels[labelLogPath], LogRotation: rotationOf(labels), Stdin: slices.Contains(set, "stdin"),
		StdinOnce: slices.Contains(set, "stdin-once"), TTY: slices.Contains(set, "tty")}, true
}

// fifoDir holds container id's FIFOs while its task lives.
func (r *Runtime) fifoDir(id string) string { return filepath.Join(r.cfg.FIFODir, "ctr-"+id) }

// stdioStreams connects a task's FIFOs to stdio.
func (r *Runtime) stdioStreams(id string, stdio *ctrio.IO, tty bool) []cio.Opt {
	opts := []cio.Opt{cio.WithStreams(stdio.ProcessStdin(), stdio.ProcessStdout(), stdio.ProcessStderr()),
		cio.WithFIFODir(r.fifoDir(id))}
	if tty {
		opts = append(opts, cio.WithTerminal)
	}
	return opts
}

// openStdio opens the stdio of container id as its labels describe.
func (r *Runtime) openStdio(cfg ctrio.Config) (*ctrio.IO, error) {
	cfg.Now = r.now
	return ctrio.Open(cfg)
}

// keptStdio is a container's stdio and the task IO that feeds it.
type keptStdio struct {
	stdio *ctrio.IO
	task  client.Task
}

// keepStdio records container id's stdio and, in the background, ends it
// when the task has exited and its output is read.
func (r *Runtime) keepStdio(id string, task client.Task, stdio *ctrio.IO) {
	r.mu.Lock()
	r.stdio[id] = keptStdio{stdio: stdio, task: task}
	r.mu.Unlock()
	go func() {
		if !r.waitTaskExit(task) {
			return // the runtime closes; Close released the stdio
		}
		if pio := task.IO(); pio != nil {
			drainIO(pio, stdioDrainTimeout)
			pio.Cancel() // unblocks a FIFO still opening
		}
		stdio.CloseOutput()
		r.forgetStdio(id, stdio)
	}()
}

// waitTaskExit waits for task to exit; false when the runtime closed first.
// A broken wait (containerd restarting) is not an exit: while the task
// still runs, it waits again.
func (r *Runtime) waitTaskExit(task client.Task) bool {
	for {
		exited, err := task.Wait(r.bg)
		if err == nil {
			select {
			case st := <-exited:
				if st.Error() == nil {
					return true
				}
			case <-r.bg.Done():
				return false
			}
		}
		if r.bg.Err() != nil {
			return false
		}
		if !r.mayStillRun(task) {
			return true
		}
		if !sleepCtx(r.bg, waitRetryInterval) {
			return false
		}
	}
}

// waitRetryInterval is how long a broken wait for a task's exit waits
// before it looks again.
const waitRetryInterval = time.Second

// mayStillRun reports whether task runs, or cannot be asked.
func (r *Runtime) mayStillRun(task client.Task) bool {
	st, err := task.Status(r.bg)
	if errdefs.IsNotFound(err) {
		return false
	}
	return err != nil || st.Status != client.Stopped
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (r *Runtime) stdioOf(id string) (*ctrio.IO, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.stdio[id]
	return k.stdio, ok
}

func (r *Runtime) forgetStdio(id string, stdio *ctrio.IO) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.stdio[id]; ok && k.stdio == stdio {
		delete(r.stdio, id)
	}
}

// releaseStdio gives up every kept stdio, as the runtime closes: the
// FIFOs stay for the next runtime, which reads on where this one stopped.
func (r *Runtime) releaseStdio() {
	r.mu.Lock()
	kept := r.stdio
	r.stdio = map[string]keptStdio{}
	r.mu.Unlock()
	for _, k := range kept {
		if pio := k.task.IO(); pio != nil {
			pio.Cancel()
			drainIO(pio, execDrainTimeout)
		}
		k.stdio.Release()
	}
}

// removeStdio ends container id's stdio, if kept, and removes its FIFOs.
func (r *Runtime) removeStdio(id string) error {
	r.mu.Lock()
	k, ok := r.stdio[id]
	delete(r.stdio, id)
	r.mu.Unlock()
	if ok {
		if pio := k.task.IO(); pio != nil {
			pio.Cancel()
		}
		k.stdio.CloseOutput()
	}
	return os.RemoveAll(r.fifoDir(id))
}

// resumeStdio takes over the stdio of the running containers that keep
// one, as a restarted agent must: their output goes on to their logs and
// they can be attached again. What they wrote meanwhile waited in the
// FIFOs (up to the pipe's size; then they waited).
func (r *Runtime) resumeStdio() error {
	ctx, cancel := context.WithTimeout(r.ns(r.bg), resumeTimeout)
	defer cancel()
	recs, err := r.client.ContainerService().List(ctx, labelFilter(podlabels.KindContainer, nil))
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	tasks, err := r.taskTable(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, rec := range recs {
		cfg, ok := stdioConfig(rec.Labels)
		if !ok || tasks[rec.ID] == nil || !running(tasks[rec.ID].Status) {
			continue
		}
		if err := r.resumeOne(ctx, rec, cfg); err != nil {
			errs = append(errs, fmt.Errorf("container %s: %w", rec.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (r *Runtime) resumeOne(ctx context.Context, rec containers.Container, cfg ctrio.Config) error {
	stdio, err := r.openStdio(cfg)
	if err != nil {
		return err
	}
	c, err := r.client.LoadContainer(ctx, rec.ID)
	if err == nil {
		var task client.Task
		if task, err = c.Task(ctx, cio.NewAttach(r.stdioStreams(rec.ID, stdio, cfg.TTY)...)); err == nil {
			r.keepStdio(rec.ID, task, stdio)
			return nil
		}
	}
	stdio.Release()
	return err
}
