package shutdown

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
)

// kubelet's words.
const (
	// Reason and Message are a terminated pod's status.
	Reason  = "Terminated"
	Message = "Pod was terminated in response to imminent node shutdown."
	// NotReadyMessage is why the node is not ready meanwhile.
	NotReadyMessage = "node is shutting down"
	// RejectedReason and RejectedMessage are a pod's status and event when
	// it arrives while the node shuts down (kubelet's admission; its pod
	// status message is "Pod was rejected: " and this).
	RejectedReason  = "NodeShutdown"
	RejectedMessage = "Pod was rejected as the node is shutting down."
	// inhibitWho and inhibitWhy are what systemd-inhibit --list shows.
	inhibitWho = "nodeagent"
	inhibitWhy = "Kubelet needs time to handle node shutdown"
)

// Config is the two kubelet flags.
type Config struct {
	// GracePeriod is --shutdown-grace-period: how long the node's shutdown
	// is delayed in all. 0: off.
	GracePeriod time.Duration
	// GracePeriodCriticalPods is --shutdown-grace-period-critical-pods:
	// the part of GracePeriod kept for the critical pods.
	GracePeriodCriticalPods time.Duration
}

// Enabled says whether graceful shutdown is on.
func (c Config) Enabled() bool { return c.GracePeriod > 0 }

// Validate checks the periods as kubelet does, naming the flags.
func (c Config) Validate() error {
	if c.GracePeriod < 0 || c.GracePeriodCriticalPods < 0 {
		return errors.New("--shutdown-grace-period, --shutdown-grace-period-critical-pods: must not be negative")
	}
	if c.GracePeriodCriticalPods > c.GracePeriod {
		return fmt.Errorf("--shutdown-grace-period-critical-pods: %s must not exceed --shutdown-grace-period (%s)",
			c.GracePeriodCriticalPods, c.GracePeriod)
	}
	return nil
}

// Pods is the agent's side: the pods it runs, and stopping one.
type Pods interface {
	// ActivePods are the pods the node runs that have not finished.
	ActivePods() []*corev1.Pod
	// TerminatePod stops the pod within grace, its status set by status,
	// and returns once its containers have stopped or ctx ends.
	TerminatePod(ctx context.Context, pod *corev1.Pod, grace time.Duration, status func(*corev1.PodStatus)) error
}

// Manager holds the lock and runs the shutdown.
type Manager struct {
	cfg          Config
	inhibitor    Inhibitor
	pods         Pods
	clock        clock.PassiveClock
	log          *slog.Logger
	shuttingDown atomic.Bool

	mu   sync.Mutex
	lock Lock
}

// New returns a Manager; Run starts it.
func New(cfg Config, inhibitor Inhibitor, pods Pods, clk clock.PassiveClock, log *slog.Logger) *Manager {
	return &Manager{cfg: cfg, inhibitor: inhibitor, pods: pods, clock: clk, log: log}
}

// ShuttingDown says whether a shutdown was announced and not cancelled.
func (m *Manager) ShuttingDown() bool { return m.shuttingDown.Load() }

// Run takes the lock and handles PrepareForShutdown until ctx ends; the
// lock goes with it.
func (m *Manager) Run(ctx context.Context) error {
	if delay, err := m.inhibitor.MaxDelay(); err != nil {
		return err
	} else if delay < m.cfg.GracePeriod {
		m.log.Warn("logind's InhibitDelayMaxSec is shorter than the shutdown grace period: pods get less time",
			"inhibitDelayMax", delay, "shutdownGracePeriod", m.cfg.GracePeriod)
	}
	if err := m.acquire(); err != nil {
		return err
	}
	defer m.release()
	events, err := m.inhibitor.Events(ctx)
	if err != nil {
		return err
	}
	m.log.Info("graceful node shutdown on", "shutdownGracePeriod", m.cfg.GracePeriod,
		"shutdownGracePeriodCriticalPods", m.cfg.GracePeriodCriticalPods)
	for active := range events {
		m.handle(ctx, active)
	}
	return nil
}

func (m *Manager) handle(ctx context.Context, active bool) {
	if !active {
		m.log.Info("node shutdown cancelled")
		m.shuttingDown.Store(false)
		if err := m.acquire(); err != nil {
			m.log.Error("inhibitor lock not taken again", "err", err)
		}
		return
	}
	m.log.Info("node shutting down: terminating pods")
	m.shuttingDown.Store(true)
	m.terminate(ctx)
	m.release()
}

// terminate stops the pods group by group, each group within its grace.
func (m *Manager) terminate(ctx context.Context) {
	for _, g := range Groups(m.pods.ActivePods(), m.cfg.GracePeriod, m.cfg.GracePeriodCriticalPods) {
		if len(g.Pods) == 0 {
			continue
		}
		gctx, cancel := context.WithTimeout(ctx, g.Grace)
		var wg sync.WaitGroup
		for _, p := range g.Pods {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := m.pods.TerminatePod(gctx, p, PodGrace(p, g.Grace), m.terminatedStatus); err != nil {
					m.log.Warn("pod not terminated for node shutdown", "pod", p.Namespace+"/"+p.Name, "err", err)
				}
			}()
		}
		wg.Wait()
		cancel()
	}
}

// terminatedStatus is kubelet's status of a pod terminated for shutdown.
func (m *Manager) terminatedStatus(s *corev1.PodStatus) {
	s.Phase, s.Reason, s.Message = corev1.PodFailed, Reason, Message
	cond := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: corev1.PodReasonTerminationByKubelet, Message: Message, LastTransitionTime: metav1.NewTime(m.clock.Now())}
	for i := range s.Conditions {
		if s.Conditions[i].Type == corev1.DisruptionTarget {
			if s.Conditions[i].Status == corev1.ConditionTrue {
				cond.LastTransitionTime = s.Conditions[i].LastTransitionTime
			}
			s.Conditions[i] = cond
			return
		}
	}
	s.Conditions = append(s.Conditions, cond)
}

func (m *Manager) acquire() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lock != nil {
		return nil
	}
	l, err := m.inhibitor.Inhibit(inhibitWho, inhibitWhy)
	if err != nil {
		return err
	}
	m.lock = l
	return nil
}

func (m *Manager) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lock == nil {
		return
	}
	if err := m.lock.Release(); err != nil {
		m.log.Warn("inhibitor lock release", "err", err)
	}
	m.lock = nil
}
