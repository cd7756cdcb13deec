package lifecycle

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/agent/prober"
)

// StopPrereqs orders the stop of a pod's running containers as kubelet
// does with sidecars: app containers (and regular init containers) stop at
// once; each running sidecar waits until every running app container and
// the next running sidecar after it in the spec have stopped, so sidecars
// stop last, in reverse order. It maps each running container to those it
// waits for.
func StopPrereqs(pod *corev1.Pod, running map[string]bool) map[string][]string {
	out := map[string][]string{}
	var apps []string
	for _, c := range pod.Spec.Containers {
		if running[c.Name] {
			apps = append(apps, c.Name)
			out[c.Name] = nil
		}
	}
	later := ""
	for i := len(pod.Spec.InitContainers) - 1; i >= 0; i-- {
		ic := pod.Spec.InitContainers[i]
		if !running[ic.Name] {
			continue
		}
		out[ic.Name] = nil
		if !prober.IsSidecar(ic) {
			continue
		}
		out[ic.Name] = append(out[ic.Name], apps...)
		if later != "" {
			out[ic.Name] = append(out[ic.Name], later)
		}
		later = ic.Name
	}
	return out
}

// Ordering makes each container's stop wait for its turn (StopPrereqs).
// It is safe for concurrent use: one goroutine per container calls
// WaitForTurn, stops its container, then calls Stopped.
type Ordering struct {
	clock   clock.Clock
	prereqs map[string][]string
	mu      sync.Mutex
	stopped map[string]chan struct{}
}

// NewOrdering returns the ordering of the stop of the running containers.
func NewOrdering(pod *corev1.Pod, running map[string]bool, clk clock.Clock) *Ordering {
	o := &Ordering{clock: clk, prereqs: StopPrereqs(pod, running), stopped: map[string]chan struct{}{}}
	for name := range o.prereqs {
		o.stopped[name] = make(chan struct{})
	}
	return o
}

// WaitForTurn waits until every container name waits for has stopped, at
// most grace (or until ctx ends), and returns how long it waited: the
// caller takes that off the grace period of the stop signal.
func (o *Ordering) WaitForTurn(ctx context.Context, name string, grace time.Duration) time.Duration {
	if grace <= 0 || len(o.prereqs[name]) == 0 {
		return 0
	}
	start := o.clock.Now()
	expired := o.clock.After(grace)
	for _, p := range o.prereqs[name] {
		select {
		case <-o.channel(p):
		case <-expired:
			return o.clock.Since(start)
		case <-ctx.Done():
			return o.clock.Since(start)
		}
	}
	return o.clock.Since(start)
}

// Stopped says that the container has stopped (or will not be waited for);
// calling it again changes nothing.
func (o *Ordering) Stopped(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ch, ok := o.stopped[name]; ok {
		close(ch)
		delete(o.stopped, name)
	}
}

// channel is closed once name has stopped; a name not waited for is
// stopped already.
func (o *Ordering) channel(name string) <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ch, ok := o.stopped[name]; ok {
		return ch
	}
	closed := make(chan struct{})
	close(closed)
	return closed
}
