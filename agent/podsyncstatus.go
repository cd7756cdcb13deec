package agent

import (
	"context"
	"maps"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// podSyncStatus is what the agent knows of one pod beyond the API and the
// runtime, as kubelet's pod workers keep it (pod_workers.go podSyncStatus):
// why its containers wait where only the agent can tell (an image that did
// not pull, a missing config map, a back-off), and which of its sandboxes
// this process has made or checked. Its worker is its main user; others
// (the API, probes) read it under its lock.
type podSyncStatus struct {
	mu sync.Mutex
	// waiting is the waiting reason of each container, by name.
	waiting map[string]waitingInfo
	// knownSandboxes are the sandboxes this process made or has CNI-checked
	// (adopt.go).
	knownSandboxes map[string]bool
	// cancelHook ends the postStart hook that runs now, if one does
	// (hooks.go); terminating: the pod is being deleted, a hook that
	// starts now ends at once.
	cancelHook  context.CancelFunc
	terminating bool
	// graceOverride, when set, is the grace period every container of
	// the pod gets when it is killed (an eviction's).
	graceOverride *time.Duration
}

// waitingInfo is why a container does not run, when only the agent knows.
type waitingInfo struct {
	reason, message string
}

func newPodSyncStatus() *podSyncStatus {
	return &podSyncStatus{waiting: map[string]waitingInfo{}, knownSandboxes: map[string]bool{}}
}

// setWaiting records why container name waits.
func (s *podSyncStatus) setWaiting(name string, w waitingInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiting[name] = w
}

// clearWaiting forgets why container name waited: it started.
func (s *podSyncStatus) clearWaiting(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.waiting, name)
}

// setGraceOverride gives the pod's containers grace when they are killed.
func (s *podSyncStatus) setGraceOverride(grace time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graceOverride = &grace
}

// gracePeriod is the grace override, if one was set.
func (s *podSyncStatus) gracePeriod() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.graceOverride == nil {
		return 0, false
	}
	return *s.graceOverride, true
}

// waitingReasons returns a copy of the waiting reasons.
func (s *podSyncStatus) waitingReasons() map[string]waitingInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.waiting)
}

// noteSandbox records that this process knows the sandbox: it made it, or
// it has checked it. It reports whether it knew it already.
func (s *podSyncStatus) noteSandbox(id string) (known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	known = s.knownSandboxes[id]
	s.knownSandboxes[id] = true
	return known
}

// hookContext is ctx for a postStart hook that ends early when the pod is
// being deleted (cancelHooks); done must be called when the hook ended.
func (s *podSyncStatus) hookContext(ctx context.Context) (hctx context.Context, done func()) {
	hctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancelHook = cancel
	if s.terminating {
		cancel()
	}
	return hctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cancelHook = nil
		cancel()
	}
}

// cancelHooks ends the postStart hook that runs now, if any, and any that
// starts from now on.
func (s *podSyncStatus) cancelHooks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.terminating = true
	if s.cancelHook != nil {
		s.cancelHook()
	}
}

// podSyncStatuses holds the podSyncStatus of every pod the agent works on,
// by UID; one lock guards the map, each entry has its own.
type podSyncStatuses struct {
	mu   sync.Mutex
	pods map[types.UID]*podSyncStatus
}

func newPodSyncStatuses() *podSyncStatuses {
	return &podSyncStatuses{pods: map[types.UID]*podSyncStatus{}}
}

// get returns the pod's entry, making it on first use.
func (p *podSyncStatuses) get(uid types.UID) *podSyncStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.pods[uid]
	if !ok {
		s = newPodSyncStatus()
		p.pods[uid] = s
	}
	return s
}

// gracePeriod is the pod's grace override, if an eviction set one; a pod
// without an entry gets no entry.
func (p *podSyncStatuses) gracePeriod(uid types.UID) (time.Duration, bool) {
	p.mu.Lock()
	s, ok := p.pods[uid]
	p.mu.Unlock()
	if !ok {
		return 0, false
	}
	return s.gracePeriod()
}

// waitingReasons returns a copy of the pod's waiting reasons; a pod
// without an entry gets none, and still none.
func (p *podSyncStatuses) waitingReasons(uid types.UID) map[string]waitingInfo {
	p.mu.Lock()
	s, ok := p.pods[uid]
	p.mu.Unlock()
	if !ok {
		return nil
	}
	return s.waitingReasons()
}

// cancelHooks ends the postStart hook the pod runs now and any it would
// start: the pod is being deleted.
func (p *podSyncStatuses) cancelHooks(uid types.UID) {
	p.get(uid).cancelHooks()
}

// forget drops the pod's entry: the pod is torn down.
func (p *podSyncStatuses) forget(uid types.UID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pods, uid)
}

// removeOrphans forgets every pod that known does not know.
func (p *podSyncStatuses) removeOrphans(known func(types.UID) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for uid := range p.pods {
		if !known(uid) {
			delete(p.pods, uid)
		}
	}
}

// len is how many pods have an entry.
func (p *podSyncStatuses) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pods)
}
