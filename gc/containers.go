package gc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/cri"
)

// containerGC removes dead containers, the sandboxes nothing needs, their
// logs and the log directories of pods that are gone.
type containerGC struct {
	cfg     Config
	rt      Runtime
	pods    PodState
	clock   clock.PassiveClock
	log     *slog.Logger
	removed func(cri.Container) // the agent's files of a removed container

	mu sync.Mutex // one collection at a time
}

// ContainerStats is what one container collection did.
type ContainerStats struct {
	Containers, Sandboxes, LogDirs int
}

// collect runs one collection; all: every dead container but the newest
// instance of each container goes, whatever the per-container and node
// limits (DeleteAllUnusedContainers, for disk pressure).
func (g *containerGC) collect(ctx context.Context, all bool) (ContainerStats, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	cs, err := g.rt.ListContainers(ctx, nil)
	if err != nil {
		return ContainerStats{}, fmt.Errorf("container GC: %w", err)
	}
	sbs, err := g.rt.ListPodSandboxes(ctx, nil)
	if err != nil {
		return ContainerStats{}, fmt.Errorf("container GC: %w", err)
	}
	plan := planContainers(cs, sbs, g.deleted, g.policy(all), g.clock.Now())
	var st ContainerStats
	var errs []error
	for _, c := range plan.containers {
		if err := g.removeContainer(ctx, c); err != nil {
			errs = append(errs, err)
			continue
		}
		st.Containers++
	}
	for _, id := range plan.sandboxes {
		if err := g.rt.RemovePodSandbox(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("remove sandbox %s: %w", id, err))
			continue
		}
		st.Sandboxes++
	}
	n, err := g.removeOrphanLogDirs(ctx)
	st.LogDirs = n
	return st, errors.Join(append(errs, err)...)
}

func (g *containerGC) policy(all bool) containerPolicy {
	p := containerPolicy{minAge: g.cfg.MinContainerAge, maxPerPodContainer: g.cfg.MaxPerPodContainer, maxContainers: g.cfg.MaxContainers}
	if all {
		p.maxPerPodContainer, p.maxContainers = 1, -1
	}
	return p
}

// deleted: a pod is taken for gone only once the agent knows every pod.
func (g *containerGC) deleted(uid string) bool {
	return g.pods.AllSourcesReady() && g.pods.PodDeleted(uid)
}

// removeContainer removes a dead container (stopping it first when its
// state is unknown, as kubelet does), then its log and the agent's files.
func (g *containerGC) removeContainer(ctx context.Context, c cri.Container) error {
	if c.State == cri.ContainerUnknown {
		if err := g.rt.StopContainer(ctx, c.ID, 0); err != nil && !errors.Is(err, cri.ErrNotFound) {
			return fmt.Errorf("stop container %s in unknown state: %w", c.ID, err)
		}
	}
	if err := g.rt.RemoveContainer(ctx, c.ID); err != nil {
		return fmt.Errorf("remove container %s: %w", c.ID, err)
	}
	g.log.Debug("removed a dead container", "pod", c.Labels[cri.LabelPodNamespace]+"/"+c.Labels[cri.LabelPodName],
		"container", c.Labels[cri.LabelContainerName], "attempt", c.Labels[cri.LabelAttempt], "id", c.ID)
	if g.removed != nil {
		g.removed(c)
	}
	return g.removeContainerLog(c.LogPath)
}
