package crilog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Rotation bounds a container's log as kubelet's containerLogMaxSize and
// containerLogMaxFiles do: a log file that would grow beyond MaxSize bytes
// is renamed <path>.<time> and a new one is started at path; of the
// rotated files the newest MaxFiles-1 are kept, so that a container has at
// most MaxFiles files of at most MaxSize bytes each.
type Rotation struct {
	// MaxSize is the largest a log file grows, in bytes; 0 or less: the log
	// is never rotated.
	MaxSize int64
	// MaxFiles counts the files kept, the current one included; at least 2
	// when MaxSize is set.
	MaxFiles int
}

// Enabled reports whether the log is rotated at all.
func (r Rotation) Enabled() bool { return r.MaxSize > 0 }

// Validate refuses a rotation that keeps fewer than two files.
func (r Rotation) Validate() error {
	if r.Enabled() && r.MaxFiles < 2 {
		return fmt.Errorf("a rotated log keeps at least 2 files, not %d", r.MaxFiles)
	}
	return nil
}

// rotatedTimeFormat stamps a rotated file: kubelet's "20060102-150405"
// with nanoseconds, as a writer rotates at its size, maybe several times a
// second. Names of one log sort by time as text.
const rotatedTimeFormat = "20060102-150405.000000000"

// File is a CRI log file that rotates as its Rotation says. Every Write is
// whole records (ending in a newline), as Writer and AppendRecords make
// them: a Write that does not fit is cut between records, the records
// that fit go to the current file, the rest to the next one, so no file
// grows beyond MaxSize (unless one record alone is larger) and no line is
// lost or split across files. Concurrent Writes are serialized.
type File struct {
	mu   sync.Mutex
	path string
	rot  Rotation
	now  func() time.Time
	f    *os.File
	size int64
}

// OpenFile opens (appending) or creates the log at path and its directory.
func OpenFile(path string, rot Rotation, now func() time.Time) (*File, error) {
	if err := rot.Validate(); err != nil {
		return nil, fmt.Errorf("log %s: %w", path, err)
	}
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("log %s: %w", path, err)
	}
	l := &File{path: path, rot: rot, now: now}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *File) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log: %w", err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Write appends the records in p, rotating the file where they would not
// fit. It reports len(p) once all of p is written.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	n := len(p)
	for len(p) > 0 {
		cut := l.fits(p)
		if cut == 0 {
			if err := l.rotate(); err != nil {
				return n - len(p), err
			}
			continue
		}
		w, err := l.f.Write(p[:cut])
		l.size += int64(w)
		if err != nil {
			return n - len(p) + w, err
		}
		p = p[cut:]
	}
	return n, nil
}

// fits returns how much of p goes into the current file: all of it, the
// records that fit, or none (the file is to be rotated first). An empty
// file takes at least one record, however large.
func (l *File) fits(p []byte) int {
	room := l.rot.MaxSize - l.size
	if !l.rot.Enabled() || int64(len(p)) <= room {
		return len(p)
	}
	if room > 0 {
		if i := bytes.LastIndexByte(p[:room], '\n'); i >= 0 {
			return i + 1
		}
	}
	if l.size > 0 {
		return 0
	}
	if i := bytes.IndexByte(p, '\n'); i >= 0 {
		return i + 1
	}
	return len(p)
}

// rotate renames the current file <path>.<time>, removes the rotated
// files beyond MaxFiles-1 and starts a new file at path.
func (l *File) rotate() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	l.f = nil
	if err := os.Rename(l.path, l.rotatedName()); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	errPrune := PruneRotated(l.path, l.rot.MaxFiles-1)
	return errors.Join(l.open(), errPrune)
}

// rotatedName is a name for the current file that no rotated file has.
func (l *File) rotatedName() string {
	t := l.now().UTC()
	for {
		name := l.path + "." + t.Format(rotatedTimeFormat)
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			return name
		}
		t = t.Add(time.Nanosecond)
	}
}

// Close closes the current file.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Rotated lists the rotated files of the log at path, oldest first.
func Rotated(path string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	prefix := filepath.Base(path) + "."
	var out []string
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if _, err := time.Parse(rotatedTimeFormat, stamp); err == nil {
			out = append(out, filepath.Join(filepath.Dir(path), e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}

// PruneRotated removes the oldest rotated files of the log at path until
// at most keep are left.
func PruneRotated(path string, keep int) error {
	old, err := Rotated(path)
	if err != nil {
		return fmt.Errorf("prune rotated logs of %s: %w", path, err)
	}
	var errs []error
	for len(old) > max(keep, 0) {
		if err := os.Remove(old[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		old = old[1:]
	}
	return errors.Join(errs...)
}
