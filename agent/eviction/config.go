package eviction

import (
	"context"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
	"k8s.io/utils/clock"
)

// Config is the eviction manager's configuration, from kubelet's flags;
// Defaults documents the defaults.
type Config struct {
	// NodeName names the node in the manager's events.
	NodeName string
	// Thresholds are --eviction-hard and --eviction-soft
	// (ParseThresholds); none: the manager only enforces local storage
	// limits.
	Thresholds []Threshold
	// PressureTransitionPeriod is --eviction-pressure-transition-period:
	// how long a pressure condition stays after its last crossed
	// threshold (5 m).
	PressureTransitionPeriod time.Duration
	// MaxPodGracePeriodSeconds is --eviction-max-pod-grace-period: the most
	// a pod evicted for a soft threshold is given to stop (0: kubelet's
	// default, which gives it none beyond the minimum).
	MaxPodGracePeriodSeconds int64
	// HousekeepingInterval is how often the manager looks (10 s).
	HousekeepingInterval time.Duration
	// MemoryCheckInterval is how often, between passes, the manager reads
	// memory.available alone (Deps.NodeMemory) and makes a pass at once
	// when a memory threshold is newly crossed (1 s), where kubelet has a
	// memcg threshold notifier.
	MemoryCheckInterval time.Duration
}

// Defaults fills in kubelet's defaults.
func (c Config) Defaults() Config {
	if c.PressureTransitionPeriod == 0 {
		c.PressureTransitionPeriod = 5 * time.Minute
	}
	if c.HousekeepingInterval == 0 {
		c.HousekeepingInterval = 10 * time.Second
	}
	if c.MemoryCheckInterval == 0 {
		c.MemoryCheckInterval = time.Second
	}
	return c
}

// SummaryProvider is the node's stats summary (agent/stats.Collector).
type SummaryProvider interface {
	Summary(ctx context.Context) (*statsapi.Summary, error)
}

// KillPodFunc stops the pod with this grace period (seconds), giving it the
// status that status sets (Failed, Evicted), and returns once its
// containers have stopped.
type KillPodFunc func(ctx context.Context, pod *corev1.Pod, gracePeriodSeconds int64, status func(*corev1.PodStatus)) error

// DiskReclaimer frees the disk of what no pod needs: the image and
// container garbage collector (gc.Manager).
type DiskReclaimer interface {
	// DeleteAllUnusedContainers removes every dead container but the ones
	// kept for their pod's status and logs.
	DeleteAllUnusedContainers(ctx context.Context) error
	// DeleteUnusedImages removes images no container uses until bytesToFree
	// are gained (negative: all of them), and returns what was gained.
	DeleteUnusedImages(ctx context.Context, bytesToFree int64) (int64, error)
}

// NoReclaim is a DiskReclaimer that frees nothing, for a node without a
// garbage collector.
type NoReclaim struct{}

// DeleteAllUnusedContainers implements DiskReclaimer.
func (NoReclaim) DeleteAllUnusedContainers(context.Context) error { return nil }

// DeleteUnusedImages implements DiskReclaimer.
func (NoReclaim) DeleteUnusedImages(context.Context, int64) (int64, error) { return 0, nil }

// Recorder records events (record.EventRecorder's Eventf).
type Recorder interface {
	Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...any)
}

// Deps are what the manager reads and acts through.
type Deps struct {
	Summary SummaryProvider
	// NodeMemory reads memory.available alone: what is available and the
	// working set (stats.Collector.NodeMemory); nil: only the passes look.
	NodeMemory func() (available, workingSet uint64, err error)
	// ActivePods are the pods the agent runs or is to run.
	ActivePods func() []*corev1.Pod
	KillPod    KillPodFunc
	Reclaimer  DiskReclaimer
	Recorder   Recorder
	// OnConditionsChanged is called after a pass that changed the pressure
	// conditions, so that the node's status says so now; nil: nobody.
	OnConditionsChanged func()
	Clock               clock.WithTicker
	Log                 *slog.Logger
}
