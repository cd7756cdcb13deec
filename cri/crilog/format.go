package crilog

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// MaxLine is the longest line content written as one record; longer lines
// are split into partial ("P") records of this size, as the kubelet
// expects.
const MaxLine = 16 * 1024

// TimeFormat is RFC 3339 with a fixed nine-digit fraction, so that records
// sort by time as text.
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// Streams of a record.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// AppendRecords appends to dst the records of data, stamped t: every line
// (without its newline) of up to max bytes is a full ("F") record; longer
// lines are cut into partial ("P") records of max bytes and end with a
// full one. It returns the incomplete line at the end of data unless eof,
// when that becomes a full record too.
func AppendRecords(dst []byte, t time.Time, stream string, data []byte, max int, eof bool) ([]byte, []byte) {
	ts := t.UTC().Format(TimeFormat)
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

// Writer turns one stream of output into records written to an underlying
// writer, which two Writers (stdout and stderr) may share: each Write of
// the underlying writer is whole records. An incomplete line waits for the
// rest; Close writes it as a full record, Release as a partial one (the
// output goes on elsewhere).
type Writer struct {
	mu      sync.Mutex
	out     io.Writer
	stream  string
	now     func() time.Time
	pending []byte
}

// NewWriter writes stream's records to out, stamped by now.
func NewWriter(out io.Writer, stream string, now func() time.Time) *Writer {
	return &Writer{out: out, stream: stream, now: now}
}

// Write writes the records of the complete lines in p.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out, rest := AppendRecords(nil, w.now(), w.stream, append(w.pending, p...), MaxLine, false)
	w.pending = append(w.pending[:0], rest...)
	if len(out) == 0 {
		return len(p), nil
	}
	if _, err := w.out.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close writes the incomplete line, if any, as a full record.
func (w *Writer) Close() error {
	return w.flush('F')
}

// Release writes the incomplete line, if any, as a partial record: whoever
// reads the output next continues the line.
func (w *Writer) Release() error {
	return w.flush('P')
}

func (w *Writer) flush(tag byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		return nil
	}
	rec := appendRecord(nil, w.now().UTC().Format(TimeFormat), w.stream, tag, w.pending)
	w.pending = w.pending[:0]
	_, err := w.out.Write(rec)
	return err
}

// LockedWriter serializes whole writes to w, for Writers that share it.
type LockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewLockedWriter wraps w.
func NewLockedWriter(w io.Writer) *LockedWriter { return &LockedWriter{w: w} }

func (l *LockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
