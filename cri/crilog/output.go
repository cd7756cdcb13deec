package crilog

import (
	"io"
	"time"
)

// output writes records' content as Options ask: timestamps at the start
// of lines, the byte limit.
type output struct {
	opts Options
	to   map[string]io.Writer
	// midLine: the stream's last record was partial, so the next one
	// continues its line (and gets no timestamp).
	midLine map[string]bool
	left    int64 // bytes the limit allows; negative: no limit
	buf     []byte
}

func newOutput(opts Options, stdout, stderr io.Writer) *output {
	left := int64(-1)
	if opts.LimitBytes > 0 {
		left = opts.LimitBytes
	}
	return &output{opts: opts, to: map[string]io.Writer{Stdout: stdout, Stderr: stderr},
		midLine: map[string]bool{}, left: left}
}

// write writes the record in line, if it is one and is not before Since;
// done reports that the limit is reached.
func (o *output) write(line []byte) (done bool, err error) {
	if len(line) == 0 {
		return false, nil
	}
	rec, err := ParseRecord(line)
	if err != nil || (!o.opts.Since.IsZero() && rec.Time.Before(o.opts.Since)) {
		return false, nil
	}
	o.buf = o.buf[:0]
	if o.opts.Timestamps && !o.midLine[rec.Stream] {
		o.buf = append(rec.Time.AppendFormat(o.buf, time.RFC3339Nano), ' ')
	}
	o.buf = append(o.buf, rec.Content...)
	if !rec.Partial {
		o.buf = append(o.buf, '\n')
	}
	o.midLine[rec.Stream] = rec.Partial
	if o.left >= 0 {
		o.buf = o.buf[:min(int64(len(o.buf)), o.left)]
		o.left -= int64(len(o.buf))
	}
	w := o.to[rec.Stream]
	if w == nil {
		return o.left == 0, nil
	}
	if _, err := w.Write(o.buf); err != nil {
		return true, err
	}
	return o.left == 0, nil
}
