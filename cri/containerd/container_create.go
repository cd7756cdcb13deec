package containerd

import (
	"context"
	"fmt"

	"github.com/containerd/containerd/v2/client"
	"github.com/moby/sys/signal"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/internal/podlabels"
)

// CreateContainer implements cri.Runtime: a containerd container with a
// new snapshot (named after the container) of its image, in the running
// sandbox's namespaces. The task is made by StartContainer.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg cri.ContainerConfig) (string, error) {
	ctx = r.ns(ctx)
	sb, err := r.runningSandbox(ctx, sandboxID)
	if err != nil {
		return "", fmt.Errorf("create container %s: %w", cfg.Name, err)
	}
	img, err := r.containerImage(ctx, cfg.Image)
	if err != nil {
		return "", fmt.Errorf("create container %s: %w", cfg.Name, err)
	}
	id := newID()
	labels, err := r.containerLabels(sb, img, cfg)
	if err != nil {
		return "", fmt.Errorf("create container %s: %w", cfg.Name, err)
	}
	spec, err := containerSpec(id, img, sb, cfg, r.oomFloor)
	if err != nil {
		return "", fmt.Errorf("create container %s: %w", cfg.Name, err)
	}
	_, err = r.client.NewContainer(ctx, id,
		client.WithImage(img.image),
		client.WithSnapshotter(r.cfg.Snapshotter),
		client.WithNewSnapshot(id, img.image),
		r.runtimeOpt(),
		client.WithNewSpec(spec...),
		client.WithContainerLabels(labels))
	if err != nil {
		return "", wrap(err, "create container %s", cfg.Name)
	}
	r.remember(id, labels)
	return id, nil
}

// containerLabels is the label set stored on a new container.
func (r *Runtime) containerLabels(sb sandboxInfo, img imageConfig, cfg cri.ContainerConfig) (map[string]string, error) {
	sig, err := stopSignal(cfg.StopSignal, img.stopSignal)
	if err != nil {
		return nil, err
	}
	internal := map[string]string{
		labelSandboxID:  sb.id,
		labelImage:      cfg.Image,
		labelImageID:    img.id,
		labelStopSignal: sig,
	}
	if err := cfg.LogRotation.Validate(); err != nil {
		return nil, err
	}
	setIfNotEmpty(internal, labelLogPath, cfg.LogPath)
	setIfNotEmpty(internal, labelLogRotation, rotationLabel(cfg.LogRotation))
	setIfNotEmpty(internal, labelStdio, stdioLabel(cfg))
	public := podlabels.Container(publicLabels(sb.labels), cfg)
	return storedLabels(public, internal, cfg.Annotations, r.log)
}

// stopSignal is the config's stop signal, else the image's, else SIGTERM.
func stopSignal(fromConfig, fromImage string) (string, error) {
	sig := "SIGTERM"
	switch {
	case fromConfig != "":
		sig = fromConfig
	case fromImage != "":
		sig = fromImage
	}
	if _, err := signal.ParseSignal(sig); err != nil {
		return "", fmt.Errorf("stop signal: %w", err)
	}
	return sig, nil
}

// runningSandbox returns sandbox id, which must be running: containers
// join its namespaces through /proc/<pid>/ns.
func (r *Runtime) runningSandbox(ctx context.Context, id string) (sandboxInfo, error) {
	rec, err := r.record(ctx, id, podlabels.KindSandbox)
	if err != nil {
		return sandboxInfo{}, err
	}
	task, err := r.taskOf(ctx, id)
	if err != nil {
		return sandboxInfo{}, err
	}
	if task == nil || !running(task.Status) {
		return sandboxInfo{}, fmt.Errorf("sandbox %s is not ready", id)
	}
	return sandboxInfo{id: id, pid: task.Pid, labels: rec.Labels}, nil
}
