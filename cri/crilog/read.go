package crilog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Options select what Read writes, as the kubelet reads PodLogOptions.
type Options struct {
	// Tail keeps only the last Tail records; negative: all of them.
	Tail int64
	// Since skips records stamped before it; zero: none.
	Since time.Time
	// LimitBytes stops after this many bytes of output; 0: no limit.
	LimitBytes int64
	// Timestamps starts every line with its record's time (RFC 3339 with
	// nanoseconds) and a space.
	Timestamps bool
	// Follow goes on reading what is appended until Running reports false
	// (what was written until then is read) or ctx ends.
	Follow bool
	// Running reports whether the container still runs; Follow needs it.
	Running func() bool
	// PollInterval is how often a followed log is checked for more, and how
	// long after the container stopped it is read a last time; 0: 100 ms.
	PollInterval time.Duration
	// Idle, if set, is called when what the log holds is written and a
	// followed read waits for more: the caller flushes its buffers there.
	Idle func()
}

// maxRecord bounds the bytes kept of one line; the rest of a longer line
// (which no writer of this package makes) is dropped.
const maxRecord = 1 << 20

// Read writes the content of the log at path, stdout records to stdout and
// stderr records to stderr (one writer for both gives the merged log):
// full records end with a newline, partial ones continue the line. Lines
// that are not records are skipped. It returns nil at the end of the log,
// at the limit, or when a followed read's ctx ends.
func Read(ctx context.Context, path string, opts Options, stdout, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read log %s: %w", path, err)
	}
	start, err := tailOffset(f, st.Size(), opts.Tail)
	if err != nil {
		return fmt.Errorf("read log %s: %w", path, err)
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("read log %s: %w", path, err)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	out := newOutput(opts, stdout, stderr)
	return readRecords(ctx, &lineReader{br: bufio.NewReaderSize(f, 64<<10)}, opts, out)
}

// readRecords writes every record of lr, following the log if asked.
func readRecords(ctx context.Context, lr *lineReader, opts Options, out *output) error {
	stopping := false
	for {
		line, err := lr.next()
		if err == nil {
			if done, err := out.write(line); done || err != nil {
				return err
			}
			continue
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
		switch {
		case !opts.Follow || stopping:
			_, err := out.write(lr.rest())
			return err
		case opts.Running == nil || !opts.Running():
			// The container stopped: what it wrote may still be on its way
			// to the file; read once more after an interval.
			stopping = true
		}
		if opts.Idle != nil {
			opts.Idle()
		}
		if !wait(ctx, opts.PollInterval) {
			return nil
		}
	}
}

func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// tailOffset is where the last n records of f (size bytes) start: after
// the n-th newline from the end that ends a record other than the last (0
// when there are fewer; the end when n is 0). It reads backwards from the
// end, a block at a time, no further than it must.
func tailOffset(f io.ReaderAt, size, n int64) (int64, error) {
	if n < 0 {
		return 0, nil
	}
	if n == 0 {
		return size, nil
	}
	buf := make([]byte, 32<<10)
	found := int64(0)
	for pos := size; pos > 0; {
		chunk := min(int64(len(buf)), pos)
		pos -= chunk
		if _, err := f.ReadAt(buf[:chunk], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := chunk - 1; i >= 0; i-- {
			if buf[i] != '\n' || pos+i == size-1 {
				continue
			}
			if found++; found == n {
				return pos + i + 1, nil
			}
		}
	}
	return 0, nil
}

// lineReader returns whole lines; what precedes the end of the file is
// kept until the rest of its line is appended.
type lineReader struct {
	br   *bufio.Reader
	line []byte // the line being read
	done bool   // line was returned whole: start a new one
}

// next returns the next line with its newline, valid until the next call;
// at the end of the file it returns io.EOF and keeps the incomplete line.
func (l *lineReader) next() ([]byte, error) {
	if l.done {
		l.line, l.done = l.line[:0], false
	}
	for {
		chunk, err := l.br.ReadSlice('\n')
		if room := maxRecord - len(l.line); room > 0 {
			l.line = append(l.line, chunk[:min(len(chunk), room)]...)
		}
		switch {
		case err == nil:
			l.done = true
			return l.line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, err
		}
	}
}

// rest returns the incomplete line at the end of the file and forgets it.
func (l *lineReader) rest() []byte {
	r := l.line
	l.line, l.done = nil, false
	return r
}
