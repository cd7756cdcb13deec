package containerd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// MaxLogLine is the longest line the logger writes as one record; longer
// ones are split into partial ("P") records of this size, as the kubelet
// expects.
const MaxLogLine = 16 * 1024

// logTimeFormat is RFC 3339 with a fixed nine-digit fraction, so that log
// lines sort by time as text.
const logTimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// logDrainTimeout is how long the logger keeps reading after SIGTERM.
const logDrainTimeout = 2 * time.Second

// RunLogger is the logging binary containerd's shim runs for a container:
// `<LoggerBinary> cri-logger <log path>`, with args being what follows
// "cri-logger". It reads the container's stdout from fd 3 and stderr from
// fd 4, signals readiness on fd 5 (the shim's binary logging protocol) and
// appends CRI-format records to the log file until both streams end, or
// shortly after SIGTERM. It runs outside the agent, so logs flow while the
// agent restarts.
func RunLogger(args []string) error {
	if len(args) != 1 || !filepath.IsAbs(args[0]) {
		return fmt.Errorf("usage: cri-logger <absolute log path> (got %q)", args)
	}
	stdout, stderr, ready := os.NewFile(3, "stdout"), os.NewFile(4, "stderr"), os.NewFile(5, "ready")
	if stdout == nil || stderr == nil || ready == nil {
		return errors.New("cri-logger: fds 3, 4 and 5 must be open (it is run by containerd's shim)")
	}
	out, err := openLog(args[0])
	if err != nil {
		return err
	}
	defer out.Close()
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(term)
	w := &lockedWriter{w: out}
	done := make(chan error, 2)
	go func() { done <- copyRecords(w, "stdout", stdout, time.Now) }()
	go func() { done <- copyRecords(w, "stderr", stderr, time.Now) }()
	if _, err := ready.Write([]byte{0}); err != nil {
		return fmt.Errorf("cri-logger: signal ready: %w", err)
	}
	ready.Close()
	return waitStreams(done, term)
}

func openLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("cri-logger: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("cri-logger: %w", err)
	}
	return f, nil
}

// waitStreams waits for both copies to end, or for logDrainTimeout after a
// termination signal.
func waitStreams(done <-chan error, term <-chan os.Signal) error {
	var errs []error
	var drain <-chan time.Time
	for pending := 2; pending > 0; {
		select {
		case err := <-done:
			errs = append(errs, err)
			pending--
		case <-term:
			drain = time.After(logDrainTimeout)
		case <-drain:
			return errors.Join(errs...)
		}
	}
	return errors.Join(errs...)
}

// lockedWriter serializes whole writes from the two streams.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// copyRecords reads stream until EOF and writes its CRI records to w.
func copyRecords(w io.Writer, stream string, r io.Reader, now func() time.Time) error {
	buf := make([]byte, 32*1024)
	var pending []byte
	for {
		n, err := r.Read(buf)
		eof := errors.Is(err, io.EOF)
		if n > 0 || eof {
			var out []byte
			out, pending = appendRecords(nil, now(), stream, append(pending, buf[:n]...), MaxLogLine, eof)
			pending = append([]byte(nil), pending...)
			if _, werr := w.Write(out); werr != nil {
				return fmt.Errorf("write %s log: %w", stream, werr)
			}
		}
		if eof {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", stream, err)
		}
	}
}

// appendRecords appends to dst the CRI log records in data, stamped t:
// every line (without its newline) of up to max bytes is a full ("F")
// record; longer lines are cut into partial ("P") records of max bytes and
// end with a full one. It returns the incomplete line at the end of data
// unless eof, when that becomes a full record too.
func appendRecords(dst []byte, t time.Time, stream string, data []byte, max int, eof bool) ([]byte, []byte) {
	ts := t.UTC().Format(logTimeFormat)
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		switch {
		case i >= 0 && i <= max:
			dst = appendRecord(dst, ts, stream, 'F', data[:i])
			data = data[i+1:]
		case i > max || len(data) > max:
			dst = appendRecord(dst, ts, stream, 'P', data[:max])
			data = data[max:]
		case eof:
			dst = appendRecord(dst, ts, stream, 'F', data)
			data = nil
		default:
			return dst, data
		}
	}
	return dst, nil
}

func appendRecord(dst []byte, ts, stream string, tag byte, line []byte) []byte {
	dst = append(dst, ts...)
	dst = append(dst, ' ')
	dst = append(dst, stream...)
	dst = append(dst, ' ', tag, ' ')
	dst = append(dst, line...)
	return append(dst, '\n')
}
