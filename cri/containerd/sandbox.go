package containerd

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"syscall"

	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/cio"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/internal/podlabels"
)

// RunPodSandbox implements cri.Runtime: a containerd container without a
// snapshot, whose task is the pause process.
func (r *Runtime) RunPodSandbox(ctx context.Context, cfg cri.SandboxConfig) (string, error) {
	ctx = r.ns(ctx)
	id := newID()
	rootfs, err := pauseRootfs(r.cfg.StateDir)
	if err != nil {
		return "", err
	}
	labels, err := storedLabels(podlabels.Sandbox(cfg), r.sandboxInternal(cfg), cfg.Annotations, r.log)
	if err != nil {
		return "", fmt.Errorf("run sandbox %s: %w", cfg.Name, err)
	}
	c, err := r.client.NewContainer(ctx, id,
		r.runtimeOpt(),
		client.WithNewSpec(r.sandboxSpec(id, rootfs, cfg)...),
		client.WithContainerLabels(labels))
	if err != nil {
		return "", wrap(err, "run sandbox %s", cfg.Name)
	}
	r.remember(id, labels)
	if _, err := startTask(ctx, c, cio.NullIO); err != nil {
		r.cleanup(ctx, "sandbox", c)
		return "", fmt.Errorf("run sandbox %s: %w", cfg.Name, err)
	}
	return id, nil
}

// sandboxInternal are the labels containers of the sandbox need.
func (r *Runtime) sandboxInternal(cfg cri.SandboxConfig) map[string]string {
	l := map[string]string{labelCgroupParent: r.cgroupParent(cfg.CgroupParent)}
	setIfNotEmpty(l, labelName, cfg.Name)
	setIfNotEmpty(l, labelNetNS, cfg.NetNSPath)
	setIfNotEmpty(l, labelHostname, cfg.Hostname)
	setIfNotEmpty(l, labelResolvConf, cfg.ResolvConf)
	setIfNotEmpty(l, labelHosts, cfg.Hosts)
	boolLabel(l, labelHostNetwork, cfg.HostNetwork || cfg.NetNSPath == "")
	boolLabel(l, labelHostIPC, cfg.HostIPC)
	boolLabel(l, labelHostPID, cfg.HostPID)
	return l
}

// startTask creates and starts c's task; on failure the task is deleted.
func startTask(ctx context.Context, c client.Container, ioCreator cio.Creator) (client.Task, error) {
	task, err := c.NewTask(ctx, ioCreator)
	if err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	if err := task.Start(ctx); err != nil {
		task.Delete(context.WithoutCancel(ctx), client.WithProcessKill)
		return nil, fmt.Errorf("start task: %w", err)
	}
	return task, nil
}

// cleanup removes what a failed create left, logging (not returning) errors
// since the caller returns the error that matters.
func (r *Runtime) cleanup(ctx context.Context, kind string, c client.Container) {
	ctx = context.WithoutCancel(ctx)
	if err := r.removeContainer(ctx, c); err != nil {
		r.log.Warn("cleanup after a failed create", "kind", kind, "id", c.ID(), "err", err)
	}
}

// StopPodSandbox implements cri.Runtime: every container of the sandbox is
// killed, then the pause process.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	ctx = r.ns(ctx)
	if _, err := r.record(ctx, id, podlabels.KindSandbox); err != nil {
		return fmt.Errorf("stop %w", err)
	}
	cs, err := r.containersOf(ctx, id)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := r.stopTask(ctx, c, syscall.SIGKILL, 0); err != nil {
			return fmt.Errorf("stop sandbox %s: container %s: %w", id, c.ID(), err)
		}
	}
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return wrap(err, "stop sandbox %s", id)
	}
	return wrap(r.stopTask(ctx, c, syscall.SIGKILL, 0), "stop sandbox %s", id)
}

// containersOf lists the containers of sandbox id.
func (r *Runtime) containersOf(ctx context.Context, id string) ([]client.Container, error) {
	cs, err := r.client.Containers(ctx, fmt.Sprintf("labels.%q==%s", labelSandboxID, id))
	if err != nil {
		return nil, fmt.Errorf("list containers of sandbox %s: %w", id, err)
	}
	return cs, nil
}

// RemovePodSandbox implements cri.Runtime: its containers go too.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	ctx = r.ns(ctx)
	if _, err := r.record(ctx, id, podlabels.KindSandbox); err != nil {
		return ignoreCRINotFound(err)
	}
	cs, err := r.containersOf(ctx, id)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := r.removeContainer(ctx, c); err != nil {
			return fmt.Errorf("remove sandbox %s: container %s: %w", id, c.ID(), err)
		}
	}
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return ignoreNotFound(err)
	}
	return wrap(r.removeContainer(ctx, c), "remove sandbox %s", id)
}

// ListPodSandboxes implements cri.Runtime, ordered by creation.
func (r *Runtime) ListPodSandboxes(ctx context.Context, filter map[string]string) ([]cri.Sandbox, error) {
	ctx = r.ns(ctx)
	recs, err := r.client.ContainerService().List(ctx, labelFilter(podlabels.KindSandbox, filter))
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	tasks, err := r.tasksOf(ctx, recs, filter)
	if err != nil {
		return nil, err
	}
	var out []cri.Sandbox
	for _, rec := range recs {
		sb := sandboxFromRecord(rec, tasks[rec.ID])
		if podlabels.Match(sb.Labels, filter) {
			out = append(out, sb)
		}
	}
	slices.SortFunc(out, func(a, b cri.Sandbox) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// sandboxFromRecord is a sandbox as its containerd container and task
// (nil when it has none) describe it.
func sandboxFromRecord(rec containers.Container, task *tasktypes.Process) cri.Sandbox {
	sb := cri.Sandbox{
		ID:        rec.ID,
		Name:      rec.Labels[labelName],
		State:     cri.SandboxNotReady,
		CreatedAt: rec.CreatedAt,
		NetNSPath: rec.Labels[labelNetNS],
		Labels:    publicLabels(rec.Labels),
	}
	if task != nil && running(task.Status) {
		sb.State, sb.Pid = cri.SandboxReady, int(task.Pid)
	}
	return sb
}

func running(s tasktypes.Status) bool {
	return s == tasktypes.Status_RUNNING || s == tasktypes.Status_PAUSED || s == tasktypes.Status_PAUSING
}
