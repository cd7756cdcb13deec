package prober

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Manager runs a worker per probe of every container (app containers and
// sidecars) of the pods it is given, keeps their results and says which
// containers are started and ready. The agent reads Updates to wake a
// pod's worker when a result changes.
type Manager struct {
	cfg     Config
	results *Results
	prober  *prober
	start   time.Time

	ctx    context.Context // ends every worker (Stop)
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	workers map[workerKey]*worker
}

// New returns a Manager with no workers.
func New(cfg Config) (*Manager, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	client := NewHTTPClient(cfg.Dial)
	hs := handlers{
		exec: execHandler{exec: cfg.Exec},
		http: httpHandler{client: client, userAgent: cfg.userAgent("probe")},
		tcp:  tcpHandler{dial: cfg.Dial},
		grpc: grpcHandler{dial: cfg.Dial, userAgent: cfg.userAgent("probe")},
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{cfg: cfg, results: NewResults(cfg.UpdateBuffer), start: cfg.Clock.Now(),
		prober: &prober{handlers: hs, recorder: cfg.Recorder, log: cfg.Log},
		ctx:    ctx, cancel: cancel, workers: map[workerKey]*worker{}}, nil
}

// Updates delivers every change of a result.
func (m *Manager) Updates() <-chan Update { return m.results.Updates() }

// Result is the container's current result of kind (Unknown when it has
// none), by its id as the runtime or the pod status names it.
func (m *Manager) Result(kind Kind, containerID string) Result {
	res, _ := m.results.Get(kind, containerID)
	return res
}

// AddPod starts the workers of the pod's probes that have none: for every
// app container and every sidecar (restartable init container).
func (m *Manager) AddPod(pod *corev1.Pod) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range probedContainers(pod) {
		for _, kind := range kinds {
			if probeOf(c, kind) == nil {
				continue
			}
			key := workerKey{pod.UID, c.Name, kind}
			if w, ok := m.workers[key]; ok && !w.stopped.Load() {
				continue
			}
			w := newWorker(m, kind, pod, c)
			m.workers[key] = w
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				w.run(m.ctx)
			}()
		}
	}
}

// RemovePod stops every worker of the pod; each forgets its results as it
// ends.
func (m *Manager) RemovePod(uid types.UID) {
	m.stopWorkers(func(k workerKey) bool { return k.uid == uid })
}

// StopLivenessAndStartup stops the pod's liveness and startup workers: a
// pod shutting down is not restarted for its probes, while readiness goes
// on (so that endpoints follow the pod until it is gone).
func (m *Manager) StopLivenessAndStartup(uid types.UID) {
	m.stopWorkers(func(k workerKey) bool { return k.uid == uid && k.kind != Readiness })
}

// CleanupPods stops the workers of every pod not in desired.
func (m *Manager) CleanupPods(desired map[types.UID]bool) {
	m.stopWorkers(func(k workerKey) bool { return !desired[k.uid] })
}

func (m *Manager) stopWorkers(match func(workerKey) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, w := range m.workers {
		if match(k) {
			w.stop()
		}
	}
}

// Stop ends every worker and waits for them.
func (m *Manager) Stop() {
	m.cancel()
	m.wg.Wait()
}

func (m *Manager) removeWorker(w *worker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.workers[w.key] == w {
		delete(m.workers, w.key)
	}
}

func (m *Manager) worker(uid types.UID, name string, kind Kind) (*worker, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.workers[workerKey{uid, name, kind}]
	return w, ok
}

// probedContainers are the containers that get probes: app containers and
// sidecars.
func probedContainers(pod *corev1.Pod) []corev1.Container {
	out := append([]corev1.Container(nil), pod.Spec.Containers...)
	for _, ic := range pod.Spec.InitContainers {
		if IsSidecar(ic) {
			out = append(out, ic)
		}
	}
	return out
}

// IsSidecar says whether an init container is restartable (a sidecar).
func IsSidecar(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

func probeOf(c corev1.Container, kind Kind) *corev1.Probe {
	switch kind {
	case Liveness:
		return c.LivenessProbe
	case Readiness:
		return c.ReadinessProbe
	case Startup:
		return c.StartupProbe
	}
	return nil
}
