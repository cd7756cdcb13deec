package gc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/cri"
)

// Manager runs the container and image collectors on their periods and on
// demand (the eviction manager's "free disk" first step).
type Manager struct {
	cfg        Config
	containers *containerGC
	images     *imageGC
	clock      clock.WithTicker
	recorder   Recorder
	log        *slog.Logger
}

// Deps are what a Manager works with.
type Deps struct {
	Runtime Runtime
	Pods    PodState
	// Recorder records the collectors' failures on the node; nil: none.
	Recorder Recorder
	// Clock is time.Now's stand-in; nil: the real clock.
	Clock clock.WithTicker
	Log   *slog.Logger
	// ContainerRemoved, if set, is called for every container removed,
	// after the runtime removed it: the agent removes its own files of it.
	ContainerRemoved func(cri.Container)
}

// New makes a Manager; Run starts its periods.
func New(cfg Config, deps Deps) (*Manager, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Runtime == nil || deps.Pods == nil || deps.Log == nil {
		return nil, errors.New("gc: a runtime, a pod state and a logger are needed")
	}
	if deps.Clock == nil {
		deps.Clock = clock.RealClock{}
	}
	if deps.Recorder == nil {
		deps.Recorder = noRecorder{}
	}
	m := &Manager{cfg: cfg, clock: deps.Clock, recorder: deps.Recorder, log: deps.Log}
	m.containers = &containerGC{cfg: cfg, rt: deps.Runtime, pods: deps.Pods, clock: deps.Clock,
		log: deps.Log.With("gc", "containers"), removed: deps.ContainerRemoved}
	m.images = &imageGC{cfg: cfg, rt: deps.Runtime, clock: deps.Clock, log: deps.Log.With("gc", "images"),
		records: map[string]*imageRecord{}}
	return m, nil
}

type noRecorder struct{}

func (noRecorder) NodeEventf(string, string, string, ...any) {}

// Run collects containers every ContainerGCPeriod and images every
// ImageGCPeriod, both at once first, until ctx ends. A high threshold of
// 100 % turns the periodic image collection off, as in kubelet
// (DeleteUnusedImages still works).
func (m *Manager) Run(ctx context.Context) {
	containers := m.clock.NewTicker(m.cfg.ContainerGCPeriod)
	defer containers.Stop()
	images := m.clock.NewTicker(m.cfg.ImageGCPeriod)
	defer images.Stop()
	imageGC := m.cfg.ImageGCHighThresholdPercent < 100
	if !imageGC {
		m.log.Info("image garbage collection is off: --image-gc-high-threshold is 100")
	}
	m.collectContainers(ctx)
	imageFailures := 0
	if imageGC {
		imageFailures = m.collectImages(ctx, 0)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-containers.C():
			m.collectContainers(ctx)
		case <-images.C():
			if imageGC {
				imageFailures = m.collectImages(ctx, imageFailures)
			}
		}
	}
}

// collectContainers runs a container collection; a failure is a Warning
// event on the node, as kubelet's.
func (m *Manager) collectContainers(ctx context.Context) {
	st, err := m.containers.collect(ctx, false)
	if err != nil {
		m.log.Error("container garbage collection failed", "err", err)
		m.recorder.NodeEventf(corev1.EventTypeWarning, ReasonContainerGCFailed, "%v", err)
	}
	if st != (ContainerStats{}) {
		m.log.Info("container garbage collection", "containers", st.Containers, "sandboxes", st.Sandboxes, "logDirs", st.LogDirs)
	}
}

// collectImages runs an image collection and returns how many have failed
// in a row: not freeing enough is a FreeDiskSpaceFailed event, and a
// failure that repeats an ImageGCFailed one, as kubelet's.
func (m *Manager) collectImages(ctx context.Context, failures int) int {
	st, err := m.images.collect(ctx)
	if st.Removed > 0 {
		m.log.Info("image garbage collection", "usage", st.UsagePercent, "removed", st.Removed, "freed", st.Freed, "wanted", st.BytesToFree)
	}
	if err == nil {
		return 0
	}
	if errors.Is(err, ErrNotEnoughFreed) {
		m.recorder.NodeEventf(corev1.EventTypeWarning, ReasonFreeDiskSpaceFailed, "%v", err)
	}
	if failures > 0 {
		m.log.Error("image garbage collection failed multiple times in a row", "err", err)
		m.recorder.NodeEventf(corev1.EventTypeWarning, ReasonImageGCFailed, "%v", err)
	} else {
		m.log.Error("image garbage collection failed", "err", err)
	}
	return failures + 1
}

// GarbageCollect runs a container collection, then an image collection,
// now.
func (m *Manager) GarbageCollect(ctx context.Context) (ContainerStats, ImageStats, error) {
	cs, errC := m.containers.collect(ctx, false)
	is, errI := m.images.collect(ctx)
	return cs, is, errors.Join(errC, errI)
}

// DeleteAllUnusedContainers removes every dead container but the newest
// instance of each container of the pods that exist, and every sandbox
// nothing needs, whatever the limits: for the eviction manager, under disk
// pressure, before it evicts a pod.
func (m *Manager) DeleteAllUnusedContainers(ctx context.Context) error {
	_, err := m.containers.collect(ctx, true)
	return err
}

// DeleteUnusedImages removes unused images (not used by any container,
// first seen at least ImageMinimumGCAge ago), least recently used first,
// until the image filesystem has gained bytesToFree bytes (negative: all
// of them), whatever the thresholds: for the eviction manager. It returns
// the bytes gained.
func (m *Manager) DeleteUnusedImages(ctx context.Context, bytesToFree int64) (int64, error) {
	freed, err := m.images.deleteUnused(ctx, bytesToFree)
	if err != nil {
		return freed, fmt.Errorf("delete unused images: %w", err)
	}
	return freed, nil
}

// DiskFreer is what the eviction manager asks of the collectors under
// disk pressure, before it evicts a pod (kubelet's ImageGC and ContainerGC
// seams): free bytes on the image filesystem by removing unused images
// (negative: every unused one; it returns the bytes gained), and remove
// every dead container but the newest instance of each container of the
// pods that exist. A *Manager is one.
type DiskFreer interface {
	DeleteUnusedImages(ctx context.Context, bytesToFree int64) (int64, error)
	DeleteAllUnusedContainers(ctx context.Context) error
}

var _ DiskFreer = (*Manager)(nil)
