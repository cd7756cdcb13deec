package gc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/crilog"
)

// removeContainerLog removes a removed container's log and its rotated
// files, as kubelet's log manager cleans them; only a log inside
// PodLogDir is touched.
func (g *containerGC) removeContainerLog(path string) error {
	if path == "" {
		return nil
	}
	if !g.inLogDir(path) {
		g.log.Warn("not removing a container log outside the pod log directory", "path", path, "dir", g.cfg.PodLogDir)
		return nil
	}
	err := os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if err := errors.Join(err, crilog.PruneRotated(path, 0)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove container log: %w", err)
	}
	return nil
}

// inLogDir reports whether path is a file beneath PodLogDir.
func (g *containerGC) inLogDir(path string) bool {
	if !filepath.IsAbs(path) || filepath.Clean(path) != path {
		return false
	}
	rel, err := filepath.Rel(g.cfg.PodLogDir, path)
	return err == nil && rel != "." && !strings.HasPrefix(rel, "..")
}

// removeOrphanLogDirs removes the log directories
// (<ns>_<pod>_<uid>) of pods that are gone and of which the runtime holds
// nothing: the agent's teardown of a deleted pod removes its logs with the
// rest, and this is for what it left (a teardown that could not finish,
// an agent that was not running when the pod went).
func (g *containerGC) removeOrphanLogDirs(ctx context.Context) (int, error) {
	if !g.pods.AllSourcesReady() {
		return 0, nil
	}
	entries, err := os.ReadDir(g.cfg.PodLogDir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pod log directories: %w", err)
	}
	held, err := g.runtimePods(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, e := range entries {
		uid := logDirUID(e.Name())
		if !e.IsDir() || uid == "" || held[uid] || !g.pods.PodDeleted(uid) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(g.cfg.PodLogDir, e.Name())); err != nil {
			errs = append(errs, fmt.Errorf("remove pod log directory: %w", err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// runtimePods lists the pod uids that still have a sandbox or a container.
func (g *containerGC) runtimePods(ctx context.Context) (map[string]bool, error) {
	sbs, err := g.rt.ListPodSandboxes(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("pod log directories: %w", err)
	}
	cs, err := g.rt.ListContainers(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("pod log directories: %w", err)
	}
	held := map[string]bool{}
	for _, sb := range sbs {
		held[sb.Labels[cri.LabelPodUID]] = true
	}
	for _, c := range cs {
		held[c.Labels[cri.LabelPodUID]] = true
	}
	return held, nil
}

// logDirUID is the pod uid a log directory <ns>_<pod>_<uid> names; "" for
// a name of another shape.
func logDirUID(name string) string {
	if strings.Count(name, "_") < 2 {
		return ""
	}
	return name[strings.LastIndexByte(name, '_')+1:]
}
