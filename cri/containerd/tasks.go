package containerd

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"syscall"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"

	"github.com/nodeagent/nodeagent/cri"
)

// taskTable lists every task in the namespace, by container ID.
func (r *Runtime) taskTable(ctx context.Context) (map[string]*tasktypes.Process, error) {
	resp, err := r.client.TaskService().List(ctx, &tasksapi.ListTasksRequest{})
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", errgrpc.ToNative(err))
	}
	out := make(map[string]*tasktypes.Process, len(resp.Tasks))
	for _, t := range resp.Tasks {
		out[t.ID] = t
	}
	return out, nil
}

// taskOf returns container id's task, or nil when it has none.
func (r *Runtime) taskOf(ctx context.Context, id string) (*tasktypes.Process, error) {
	resp, err := r.client.TaskService().Get(ctx, &tasksapi.GetRequest{ContainerID: id})
	if err != nil {
		if err = errgrpc.ToNative(err); errdefs.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("task of %s: %w", id, err)
	}
	return resp.Process, nil
}

// tasksOf returns the tasks of recs by container ID. Every task answers
// through its shim, so a filtered list (a pod's containers) asks for its
// own tasks only; an unfiltered one (a relist) lists them all at once.
func (r *Runtime) tasksOf(ctx context.Context, recs []containers.Container, filter map[string]string) (map[string]*tasktypes.Process, error) {
	if len(filter) == 0 {
		return r.taskTable(ctx)
	}
	out := make(map[string]*tasktypes.Process, len(recs))
	for _, rec := range recs {
		t, err := r.taskOf(ctx, rec.ID)
		if err != nil {
			return nil, err
		}
		if t != nil {
			out[rec.ID] = t
		}
	}
	return out, nil
}

// labelFilter selects, in containerd, the containers of one kind that
// carry every label of filter.
func labelFilter(kind string, filter map[string]string) string {
	parts := []string{fmt.Sprintf("labels.%q==%s", cri.LabelKind, kind)}
	for _, k := range slices.Sorted(maps.Keys(filter)) {
		parts = append(parts, fmt.Sprintf("labels.%q==%q", k, filter[k]))
	}
	return strings.Join(parts, ",")
}

// record returns the containerd container id, which must be of kind.
func (r *Runtime) record(ctx context.Context, id, kind string) (containers.Container, error) {
	rec, err := r.client.ContainerService().Get(ctx, id)
	if err != nil {
		return containers.Container{}, wrap(err, "%s %s", kind, id)
	}
	if rec.Labels[cri.LabelKind] != kind {
		return containers.Container{}, fmt.Errorf("%s %s: %w (it is not a %s)", kind, id, cri.ErrNotFound, kind)
	}
	return rec, nil
}

// stopTask signals container c's task with sig and waits up to timeout for
// it to exit, then kills it. A container whose task is not running is left
// alone. With timeout 0 it kills at once.
func (r *Runtime) stopTask(ctx context.Context, c client.Container, sig syscall.Signal, timeout time.Duration) error {
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if st, err := task.Status(ctx); err != nil || st.Status == client.Stopped {
		return ignoreNotFound(err)
	}
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	exited, err := task.Wait(waitCtx)
	if err != nil {
		return err
	}
	if timeout > 0 {
		if err := task.Kill(ctx, sig); ignoreNotFound(err) != nil {
			return fmt.Errorf("send %v: %w", sig, err)
		}
		if r.waitExit(ctx, exited, timeout) == nil {
			return nil
		}
	}
	if err := task.Kill(ctx, syscall.SIGKILL, client.WithKillAll); ignoreNotFound(err) != nil {
		return fmt.Errorf("kill: %w", err)
	}
	return r.waitExit(ctx, exited, r.cfg.KillTimeout)
}

// waitExit waits up to timeout for an exit status.
func (r *Runtime) waitExit(ctx context.Context, exited <-chan client.ExitStatus, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case st := <-exited:
		return st.Error()
	case <-timer.C:
		return fmt.Errorf("still running after %v", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deleteTask kills and deletes container c's task, if it has one.
func deleteTask(ctx context.Context, c client.Container) error {
	task, err := c.Task(ctx, nil)
	if err != nil {
		return ignoreNotFound(err)
	}
	_, err = task.Delete(ctx, client.WithProcessKill)
	return ignoreNotFound(err)
}

// remember caches the kind and pod UID of a new sandbox or container for
// events.
func (r *Runtime) remember(id string, labels map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.podRefs[id] = podRef{kind: labels[cri.LabelKind], uid: labels[cri.LabelPodUID]}
}
