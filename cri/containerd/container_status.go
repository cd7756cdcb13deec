package containerd

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/v2/core/containers"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/internal/podlabels"
)

// unknownExitCode is reported for a container that was started but whose
// task is gone (the node rebooted), as containerd does.
const unknownExitCode = 255

// ListContainers implements cri.Runtime, ordered by creation.
func (r *Runtime) ListContainers(ctx context.Context, filter map[string]string) ([]cri.Container, error) {
	ctx = r.ns(ctx)
	recs, err := r.client.ContainerService().List(ctx, labelFilter(podlabels.KindContainer, filter))
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	tasks, err := r.tasksOf(ctx, recs, filter)
	if err != nil {
		return nil, err
	}
	var out []cri.Container
	for _, rec := range recs {
		c := containerFromRecord(rec, tasks[rec.ID])
		if podlabels.Match(c.Labels, filter) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b cri.Container) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// ContainerStatus implements cri.Runtime.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (cri.Container, error) {
	ctx = r.ns(ctx)
	rec, err := r.record(ctx, id, podlabels.KindContainer)
	if err != nil {
		return cri.Container{}, fmt.Errorf("status of %w", err)
	}
	task, err := r.taskOf(ctx, id)
	if err != nil {
		return cri.Container{}, err
	}
	return containerFromRecord(rec, task), nil
}

// containerFromRecord is a container as its containerd container and task
// (nil when it has none) describe it.
func containerFromRecord(rec containers.Container, task *tasktypes.Process) cri.Container {
	l := rec.Labels
	c := cri.Container{
		ID:        rec.ID,
		SandboxID: l[labelSandboxID],
		Name:      l[cri.LabelContainerName],
		Image:     l[labelImage],
		ImageID:   l[labelImageID],
		CreatedAt: rec.CreatedAt,
		StartedAt: timeLabel(l, labelStartedAt),
		Labels:    publicLabels(l),
		LogPath:   l[labelLogPath],
	}
	c.State, c.Pid, c.ExitCode, c.FinishedAt = taskState(task, !c.StartedAt.IsZero())
	if c.State == cri.ContainerExited {
		c.Reason = exitReason(c.ExitCode, l[labelOOMKilled] == "true", task == nil)
	}
	return c
}

// taskState maps a task (nil: none) to a container state, pid, exit code
// and finish time.
func taskState(task *tasktypes.Process, started bool) (cri.ContainerState, int, int32, time.Time) {
	switch {
	case task == nil && started:
		return cri.ContainerExited, 0, unknownExitCode, time.Time{}
	case task == nil, task.Status == tasktypes.Status_CREATED:
		return cri.ContainerCreated, 0, 0, time.Time{}
	case running(task.Status):
		return cri.ContainerRunning, int(task.Pid), 0, time.Time{}
	case task.Status == tasktypes.Status_STOPPED:
		return cri.ContainerExited, 0, int32(task.ExitStatus), task.ExitedAt.AsTime()
	}
	return cri.ContainerUnknown, 0, 0, time.Time{}
}

// exitReason explains an exit as the kubelet does.
func exitReason(code int32, oomKilled, taskLost bool) string {
	switch {
	case oomKilled:
		return "OOMKilled"
	case taskLost:
		return "ContainerStatusUnknown"
	case code == 0:
		return "Completed"
	}
	return "Error"
}
