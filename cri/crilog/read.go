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
	src := &source{path: path, f: f}
	defer src.close()
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
	src.lr = &lineReader{br: bufio.NewReaderSize(f, 64<<10)}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	out := newOutput(opts, stdout, stderr)
	return readRecords(ctx, src, opts, out)
}

// readRecords writes every record of src, following the log if asked.
func readRecords(ctx context.Context, src *source, opts Options, out *output) error {
	stopping := false
	for {
		line, err := src.lr.next()
		if err == nil {
			if done, err := out.write(line); done || err != nil {
				return err
			}
			continue
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
		if opts.Follow {
			// A rotated log goes on in a new file at the path.
			if switched, err := src.follow(out); err != nil || switched {
				if err != nil {
					return err
				}
				continue
			}
		}
		switch {
		case !opts.Follow || stopping:
			_, err := out.write(src.lr.rest())
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

// source is the file a log is read from: the one at path when the read
// began, then, as the log rotates (File renames it and starts a new one),
// the files that followed it: the rotated ones that are left, oldest
// first, and the one at path.
type source struct {
	path string
	f    *os.File
	lr   *lineReader
	// rotated: the current file is no longer the one at path, so what it
	// holds is final; at its end the read moves on to the next file.
	rotated bool
}

// follow is called at the end of the current file, and reports whether
// there is more to read. The first time it sees that the log has rotated
// it reports true, so that the current file is read to its end again
// (what was written before the rename); the next time it moves on to the
// file that followed it.
func (s *source) follow(out *output) (bool, error) {
	if s.rotated {
		return s.next(out)
	}
	cur, err := s.f.Stat()
	if err != nil {
		return false, fmt.Errorf("read log %s: %w", s.path, err)
	}
	st, err := os.Stat(s.path)
	if err != nil || os.SameFile(cur, st) {
		return false, nil // not rotated; or between the rename and the new file
	}
	s.rotated = true
	return true, nil
}

// next writes the end of the current file (an incomplete line, which a
// rotating writer never leaves) and opens the file that followed it.
func (s *source) next(out *output) (bool, error) {
	f, rotated, err := s.openSuccessor()
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // gone for a moment: look again after the interval
	}
	if err != nil {
		return false, fmt.Errorf("read rotated log %s: %w", s.path, err)
	}
	if _, err := out.write(s.lr.rest()); err != nil {
		f.Close()
		return false, err
	}
	s.f.Close()
	s.f, s.rotated = f, rotated
	s.lr = &lineReader{br: bufio.NewReaderSize(f, 64<<10)}
	return true, nil
}

// openSuccessor opens the file that followed the current one, and says
// whether it is a rotated one. The writer may rotate meanwhile: when a
// rotated file follows the current one after the file at path was opened,
// that one is read first.
func (s *source) openSuccessor() (*os.File, bool, error) {
	for {
		name, err := s.successor()
		if err != nil {
			return nil, false, err
		}
		f, err := os.Open(name)
		if err != nil || name != s.path {
			return f, name != s.path, err
		}
		if again, err := s.successor(); err != nil || again == s.path {
			return f, false, nil
		}
		f.Close()
	}
}

// successor names the file that followed the current one: the next
// rotated file, or the one at path after the newest. When the current
// file was pruned, so were the older ones: the oldest left follows it.
func (s *source) successor() (string, error) {
	cur, err := s.f.Stat()
	if err != nil {
		return "", err
	}
	old, err := Rotated(s.path)
	if err != nil {
		return "", err
	}
	for i, name := range old {
		if st, err := os.Stat(name); err == nil && os.SameFile(cur, st) {
			if i+1 < len(old) {
				return old[i+1], nil
			}
			return s.path, nil
		}
	}
	if len(old) > 0 {
		return old[0], nil
	}
	return s.path, nil
}

func (s *source) close() { s.f.Close() }

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
