package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/crilog"
)

// serveLogs streams a container's log without the CRI framing, with
// kubelet's options: follow, previous, tailLines, sinceSeconds or
// sinceTime, timestamps, limitBytes. The file is read as it is sent, its
// tail found from the end; a followed log is sent until the container
// stops or the client leaves.
func (s *streaming) serveLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts, err := logOptions(q, s.now())
	if err != nil {
		httpError(w, errStatus{http.StatusBadRequest, err})
		return
	}
	c, err := s.container(r.Context(), r, q.Get("previous") == "true", false)
	if err != nil {
		httpError(w, err)
		return
	}
	if opts.Follow {
		opts.Running = s.runningFunc(r.Context(), c.ID)
	}
	out := &logWriter{w: w}
	opts.Idle = out.flush
	err = crilog.Read(r.Context(), c.LogPath, opts, out, out)
	if errors.Is(err, fs.ErrNotExist) && !out.started {
		httpError(w, errStatus{http.StatusNotFound, fmt.Errorf("container %q has no log yet", c.Name)})
		return
	}
	if err != nil && !out.started {
		httpError(w, err)
		return
	}
	out.flush()
}

// runningFunc reports, when called, whether container id still runs.
func (s *streaming) runningFunc(ctx context.Context, id string) func() bool {
	return func() bool {
		c, err := s.rt.ContainerStatus(ctx, id)
		return err == nil && c.State == cri.ContainerRunning
	}
}

// logOptions reads kubelet's log query parameters; what is malformed or
// out of range is an error (kube: tailLines >= 0, limitBytes >= 1,
// sinceSeconds >= 1, not both since options).
func logOptions(q url.Values, now time.Time) (crilog.Options, error) {
	opts := crilog.Options{Tail: -1, Follow: q.Get("follow") == "true", Timestamps: q.Get("timestamps") == "true"}
	var err error
	if opts.Tail, err = intParam(q, "tailLines", -1, 0); err != nil {
		return opts, err
	}
	if opts.LimitBytes, err = intParam(q, "limitBytes", 0, 1); err != nil {
		return opts, err
	}
	since, err := intParam(q, "sinceSeconds", 0, 1)
	if err != nil {
		return opts, err
	}
	if q.Has("sinceSeconds") && q.Has("sinceTime") {
		return opts, errors.New("at most one of sinceTime or sinceSeconds may be specified")
	}
	if since > 0 {
		opts.Since = now.Add(-time.Duration(since) * time.Second)
	}
	if v := q.Get("sinceTime"); v != "" {
		if opts.Since, err = time.Parse(time.RFC3339, v); err != nil {
			return opts, fmt.Errorf("sinceTime %q: %w", v, err)
		}
	}
	return opts, nil
}

// intParam is query parameter name as an integer of at least min; def
// when absent.
func intParam(q url.Values, name string, def, min int64) (int64, error) {
	v := q.Get(name)
	if !q.Has(name) {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not an integer", name, v)
	}
	if n < min {
		return 0, fmt.Errorf("%s must be at least %d, not %d", name, min, n)
	}
	return n, nil
}

// logWriter buffers the log for the client and sends it whenever the
// reader waits for more (or ends).
type logWriter struct {
	w       http.ResponseWriter
	buf     *bufio.Writer
	started bool
}

func (l *logWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.w.Header().Set("Content-Type", "text/plain")
		l.buf, l.started = bufio.NewWriterSize(l.w, 32<<10), true
	}
	return l.buf.Write(p)
}

func (l *logWriter) flush() {
	if !l.started {
		return
	}
	l.buf.Flush()
	if f, ok := l.w.(http.Flusher); ok {
		f.Flush()
	}
}
