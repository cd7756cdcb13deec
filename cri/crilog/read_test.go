package crilog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/internal/syncbuf"
)

// rec is one record at second s after logTime.
func rec(s int, stream, tag, content string) string {
	return logTime.Add(time.Duration(s)*time.Second).Format(TimeFormat) + " " + stream + " " + tag + " " + content + "\n"
}

func writeLog(t *testing.T, records ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "0.log")
	if err := os.WriteFile(path, []byte(strings.Join(records, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func read(t *testing.T, path string, opts Options) string {
	t.Helper()
	var out bytes.Buffer
	if err := Read(context.Background(), path, opts, &out, &out); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return out.String()
}

var sample = []string{
	rec(0, Stdout, "F", "one"),
	rec(1, Stderr, "P", "tw"),
	rec(2, Stdout, "P", "thr"),
	rec(3, Stderr, "F", "o"),
	rec(4, Stdout, "F", "ee"),
	"not a record\n",
	rec(5, Stdout, "F", ""),
	rec(6, Stdout, "F", "four"),
}

func TestReadOptions(t *testing.T) {
	path := writeLog(t, sample...)
	ts := func(s int) string { return logTime.Add(time.Duration(s) * time.Second).Format(time.RFC3339Nano) }
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"all, partial lines joined", Options{Tail: -1}, "one\ntwthro\nee\n\nfour\n"},
		{"tail 0", Options{Tail: 0}, ""},
		{"tail 1", Options{Tail: 1}, "four\n"},
		{"tail 2 counts records", Options{Tail: 2}, "\nfour\n"},
		{"tail 5 counts every line", Options{Tail: 5}, "o\nee\n\nfour\n"},
		{"tail beyond the file", Options{Tail: 100}, "one\ntwthro\nee\n\nfour\n"},
		{"since", Options{Tail: -1, Since: logTime.Add(4 * time.Second)}, "ee\n\nfour\n"},
		{"limit cuts a record", Options{Tail: -1, LimitBytes: 6}, "one\ntw"},
		{"timestamps at line starts only", Options{Tail: -1, Timestamps: true},
			ts(0) + " one\n" + ts(1) + " tw" + ts(2) + " thro\nee\n" + ts(5) + " \n" + ts(6) + " four\n"},
		{"timestamps and limit", Options{Tail: 1, Timestamps: true, LimitBytes: 5}, ts(6)[:5]},
	} {
		if got := read(t, path, tc.opts); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestReadSplitsStreams(t *testing.T) {
	path := writeLog(t, sample...)
	var out, errOut bytes.Buffer
	if err := Read(context.Background(), path, Options{Tail: -1}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if out.String() != "one\nthree\n\nfour\n" || errOut.String() != "two\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
}

// countingReaderAt counts the bytes read.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// The tail of a large log is found by reading backwards from its end: the
// last lines of 8 MiB cost one 32 KiB block.
func TestTailReadsOnlyTheEnd(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 8<<20; i++ {
		b.WriteString(rec(0, Stdout, "F", fmt.Sprintf("line %d %s", i, strings.Repeat("x", 100))))
	}
	data := b.String()
	cr := &countingReaderAt{r: strings.NewReader(data)}
	off, err := tailOffset(cr, int64(len(data)), 3)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(data[off:], "\n"), "\n")
	if len(lines) != 3 || !strings.HasSuffix(data, lines[2]+"\n") {
		t.Fatalf("tail 3 from offset %d: %d lines", off, len(lines))
	}
	if n := cr.n.Load(); n > 32<<10 {
		t.Errorf("read %d bytes to find the last 3 lines", n)
	}
	if off, _ := tailOffset(cr, int64(len(data)), 1<<30); off != 0 {
		t.Errorf("tail beyond the file: offset %d", off)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Follow reads what is appended, a line split across writes included,
// until the container stops; what it wrote before is read.
func TestFollowUntilTheContainerStops(t *testing.T) {
	path := writeLog(t, rec(0, Stdout, "F", "old"))
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var running atomic.Bool
	running.Store(true)
	out := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- Read(context.Background(), path, Options{Tail: -1, Follow: true, Running: running.Load,
			PollInterval: time.Millisecond}, out, out)
	}()
	waitFor(t, "the old line", func() bool { return out.String() == "old\n" })
	line := rec(1, Stdout, "F", "new")
	f.WriteString(line[:10])
	f.WriteString(line[10:])
	waitFor(t, "the new line", func() bool { return out.String() == "old\nnew\n" })
	f.WriteString(rec(2, Stderr, "F", "last"))
	running.Store(false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if out.String() != "old\nnew\nlast\n" {
		t.Errorf("followed %q", out.String())
	}
}

func TestFollowEndsWithTheContext(t *testing.T) {
	path := writeLog(t, rec(0, Stdout, "F", "old"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Read(ctx, path, Options{Tail: 0, Follow: true, Running: func() bool { return true }}, io.Discard, io.Discard)
	}()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Read after its context ended: %v", err)
	}
}

func TestParseRecord(t *testing.T) {
	for line, want := range map[string]string{
		rec(0, Stdout, "F", "a b"):                "stdout F a b",
		rec(0, Stderr, "P", ""):                   "stderr P ",
		"2026-11-22T09:00:00.123456789Z stdout F": "stdout F ",
	} {
		r, err := ParseRecord([]byte(line))
		tag := "F"
		if r.Partial {
			tag = "P"
		}
		if err != nil || r.Stream+" "+tag+" "+string(r.Content) != want || !r.Time.Equal(logTime) {
			t.Errorf("ParseRecord(%q) = %+v, %v", line, r, err)
		}
	}
	for _, bad := range []string{"", "x stdout F a", "2026-11-22T09:00:00Z stdin F a", "2026-11-22T09:00:00Z stdout X a", "2026-11-22T09:00:00Z stdout Fa"} {
		if _, err := ParseRecord([]byte(bad)); err == nil {
			t.Errorf("ParseRecord(%q) succeeded", bad)
		}
	}
}
