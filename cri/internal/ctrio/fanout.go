package ctrio

import (
	"io"
	"sync"
	"time"

	"github.com/nodeagent/nodeagent/cri/crilog"
)

// fanout is one output stream of a container: every write goes to the log
// and to each attached client. A client whose write fails is dropped. A
// slow client slows the container, as with containerd's CRI plugin.
type fanout struct {
	mu     sync.Mutex
	log    *crilog.Writer // nil: no log
	sinks  map[*sink]bool
	closed bool
}

// sink is an attached client's writer.
type sink struct {
	w      io.Writer
	failed chan struct{} // closed when a write to w failed
}

func newFanout(log io.Writer, stream string, now func() time.Time) *fanout {
	f := &fanout{sinks: map[*sink]bool{}}
	if log != nil {
		f.log = crilog.NewWriter(log, stream, now)
	}
	return f
}

// Write never fails: the container's output must go on whatever happens
// to its readers.
func (f *fanout) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.log != nil {
		f.log.Write(p)
	}
	for s := range f.sinks {
		if _, err := s.w.Write(p); err != nil {
			delete(f.sinks, s)
			close(s.failed)
		}
	}
	return len(p), nil
}

func (f *fanout) add(w io.Writer) *sink {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &sink{w: w, failed: make(chan struct{})}
	if !f.closed {
		f.sinks[s] = true
	}
	return s
}

func (f *fanout) remove(sinks ...*sink) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range sinks {
		delete(f.sinks, s)
	}
}

// close detaches every client and flushes the log: the incomplete line as
// a partial record when released, else as a full one.
func (f *fanout) close(released bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	clear(f.sinks)
	if f.log == nil {
		return nil
	}
	if released {
		return f.log.Release()
	}
	return f.log.Close()
}
