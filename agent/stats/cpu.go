package stats

import (
	"sync"
	"time"
)

// cpuSample is a cgroup's cumulative CPU time at a moment.
type cpuSample struct {
	at    time.Time
	usage uint64
}

// cpuWindow holds the last sample and one at least minWindow older, the
// two a rate is computed from.
type cpuWindow struct {
	prev, cur cpuSample
}

// cpuRates keeps a window per cgroup path; it is safe for concurrent use.
type cpuRates struct {
	minWindow time.Duration
	mu        sync.Mutex
	windows   map[string]*cpuWindow
}

func newCPURates(minWindow time.Duration) *cpuRates {
	return &cpuRates{minWindow: minWindow, windows: map[string]*cpuWindow{}}
}

// sample reads path's CPU use with read, stamped by now, and returns it
// with the rate in nanocores over the window it ends (false: none yet, or
// the cgroup was made anew). Reading and stamping happen under the lock,
// so that samples taken at once (a request and Run) stay in order.
func (r *cpuRates) sample(path string, read func() (uint64, error), now func() time.Time) (cpuSample, uint64, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	usage, err := read()
	if err != nil {
		return cpuSample{}, 0, false, err
	}
	s := cpuSample{at: now(), usage: usage}
	rate, ok := r.add(path, s)
	return s, rate, ok, nil
}

// add records a sample of path (under the lock).
func (r *cpuRates) add(path string, s cpuSample) (uint64, bool) {
	w := r.windows[path]
	if w == nil || s.usage < w.cur.usage || s.at.Before(w.cur.at) {
		r.windows[path] = &cpuWindow{cur: s} // new, or a new cgroup of that path
		return 0, false
	}
	if s.at.Sub(w.cur.at) >= r.minWindow {
		w.prev = w.cur
	}
	w.cur = s
	return w.rate()
}

func (w *cpuWindow) rate() (uint64, bool) {
	d := w.cur.at.Sub(w.prev.at)
	if w.prev.at.IsZero() || d <= 0 {
		return 0, false
	}
	return uint64(float64(w.cur.usage-w.prev.usage) / d.Seconds()), true
}

// keepOnly forgets the cgroups not in paths (pods and containers gone).
func (r *cpuRates) keepOnly(paths map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := range r.windows {
		if !paths[p] {
			delete(r.windows, p)
		}
	}
}
