package agent

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// FakeProber is a Prober whose results a test sets: it keeps the pods it
// was told about and the results, and delivers each Set on Updates.
type FakeProber struct {
	mu      sync.Mutex
	pods    map[types.UID]*corev1.Pod
	results map[probeKey]ProbeResult
	updates chan ProbeUpdate
}

type probeKey struct {
	kind ProbeKind
	id   string
}

var _ Prober = &FakeProber{}

// NewFakeProber returns a FakeProber that holds up to 1024 undelivered
// updates (Set blocks beyond).
func NewFakeProber() *FakeProber {
	return &FakeProber{pods: map[types.UID]*corev1.Pod{}, results: map[probeKey]ProbeResult{}, updates: make(chan ProbeUpdate, 1024)}
}

// AddPod implements Prober.
func (f *FakeProber) AddPod(pod *corev1.Pod) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pods[pod.UID] = pod
}

// RemovePod implements Prober; the pod's results stay until Set again
// (a test reads them), as its containers' IDs are not reused.
func (f *FakeProber) RemovePod(uid types.UID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.pods, uid)
}

// Probed reports whether the pod is being probed.
func (f *FakeProber) Probed(uid types.UID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.pods[uid]
	return ok
}

// Result implements Prober.
func (f *FakeProber) Result(kind ProbeKind, containerID string) ProbeResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.results[probeKey{kind, containerID}]
}

// Stop implements Prober: a FakeProber runs nothing.
func (f *FakeProber) Stop() {}

// Updates implements Prober.
func (f *FakeProber) Updates() <-chan ProbeUpdate { return f.updates }

// Set records a result and delivers it on Updates when it changed.
func (f *FakeProber) Set(uid types.UID, containerID string, kind ProbeKind, r ProbeResult) {
	f.mu.Lock()
	k := probeKey{kind, containerID}
	changed := f.results[k] != r
	f.results[k] = r
	f.mu.Unlock()
	if changed {
		f.updates <- ProbeUpdate{PodUID: uid, ContainerID: containerID, Kind: kind, Result: r}
	}
}
