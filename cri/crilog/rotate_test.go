package crilog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/internal/syncbuf"
)

// fakeNow is a clock that moves on by a second at every call.
func fakeNow() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return logTime.Add(time.Duration(n.Add(1)) * time.Second) }
}

// numbered is record i of a test log: "<time> stdout F line <i>".
func numbered(i int) string { return rec(0, Stdout, "F", fmt.Sprintf("line %04d", i)) }

// keptLines reads the log's rotated files, oldest first, then the current
// one, and checks every file's size.
func keptLines(t *testing.T, path string, rot Rotation) ([]string, int) {
	t.Helper()
	files, err := Rotated(path)
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, path)
	var lines []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) > rot.MaxSize {
			t.Errorf("%s has %d bytes, more than %d", filepath.Base(f), len(data), rot.MaxSize)
		}
		if len(data) > 0 && !strings.HasSuffix(string(data), "\n") {
			t.Errorf("%s does not end with a whole record", filepath.Base(f))
		}
		lines = append(lines, strings.SplitAfter(string(data), "\n")...)
	}
	var out []string
	for _, l := range lines {
		if l != "" {
			out = append(out, l)
		}
	}
	return out, len(files)
}

// checkSuffix checks that kept is the last records of 0..n-1, in order,
// none missing between them.
func checkSuffix(t *testing.T, kept []string, n int) {
	t.Helper()
	if len(kept) == 0 {
		t.Fatal("no records kept")
	}
	first := n - len(kept)
	for i, l := range kept {
		if l != numbered(first+i) {
			t.Fatalf("record %d of the kept files is %q, want %q (a line lost or out of order)", i, l, numbered(first+i))
		}
	}
}

func TestFileRotatesAtMaxSizeAndKeepsMaxFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c", "0.log")
	rot := Rotation{MaxSize: 200, MaxFiles: 3}
	f, err := OpenFile(path, rot, fakeNow())
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	for i := 0; i < n; i++ {
		if _, err := f.Write([]byte(numbered(i))); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	kept, files := keptLines(t, path, rot)
	if files != rot.MaxFiles {
		t.Errorf("%d files, want %d", files, rot.MaxFiles)
	}
	checkSuffix(t, kept, n)
	// 200 bytes hold 4 records of 41: three full files at most.
	if len(kept) < 9 {
		t.Errorf("only %d records kept in %d files", len(kept), files)
	}
}

// One Write of many records is cut between records; one record larger
// than MaxSize goes alone into a file of its own.
func TestFileCutsWritesBetweenRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	rot := Rotation{MaxSize: 100, MaxFiles: 10}
	f, err := OpenFile(path, rot, fakeNow())
	if err != nil {
		t.Fatal(err)
	}
	var batch strings.Builder
	for i := 0; i < 7; i++ {
		batch.WriteString(numbered(i))
	}
	if n, err := f.Write([]byte(batch.String())); err != nil || n != batch.Len() {
		t.Fatalf("Write = %d, %v; want %d", n, err, batch.Len())
	}
	kept, files := keptLines(t, path, rot)
	checkSuffix(t, kept, 7)
	if len(kept) != 7 || files != 4 {
		t.Errorf("%d records in %d files, want 7 in 4 (2 of 41 bytes fit in 100)", len(kept), files)
	}
	big := rec(0, Stdout, "F", strings.Repeat("x", 150))
	if _, err := f.Write([]byte(big + numbered(7))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	old, _ := Rotated(path)
	data, _ := os.ReadFile(old[len(old)-1])
	cur, _ := os.ReadFile(path)
	if string(data) != big || string(cur) != numbered(7) {
		t.Errorf("a record larger than the file: newest rotated %q, current %q", data, cur)
	}
}

func TestFileWithoutRotationGrows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	f, err := OpenFile(path, Rotation{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		f.Write([]byte(numbered(i)))
	}
	f.Close()
	if old, _ := Rotated(path); len(old) != 0 {
		t.Errorf("rotated files without a rotation: %v", old)
	}
	if st, _ := os.Stat(path); st.Size() != 50*int64(len(numbered(0))) {
		t.Errorf("size %d", st.Size())
	}
}

// A reopened log counts what the file already holds.
func TestFileReopenCountsTheExistingSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	rot := Rotation{MaxSize: 100, MaxFiles: 2}
	for i := 0; i < 3; i++ {
		f, err := OpenFile(path, rot, fakeNow())
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(numbered(i)))
		f.Close()
	}
	kept, files := keptLines(t, path, rot)
	checkSuffix(t, kept, 3)
	if files != 2 || len(kept) != 3 {
		t.Errorf("%d records in %d files, want 3 in 2", len(kept), files)
	}
}

func TestRotationValidate(t *testing.T) {
	if err := (Rotation{MaxSize: 10, MaxFiles: 1}).Validate(); err == nil {
		t.Error("MaxFiles 1 accepted")
	}
	if err := (Rotation{MaxFiles: 0}).Validate(); err != nil {
		t.Errorf("no rotation refused: %v", err)
	}
	if _, err := OpenFile(filepath.Join(t.TempDir(), "0.log"), Rotation{MaxSize: 10, MaxFiles: 1}, nil); err == nil {
		t.Error("OpenFile with MaxFiles 1 succeeded")
	}
}

// Rotated lists only this log's rotated files, not another attempt's nor
// anything else in the directory.
func TestRotatedListsOnlyThisLog(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"1.log", "1.log.20261206-120000.000000001", "1.log.20261206-120000.000000000",
		"10.log.20261206-120000.000000000", "1.log.tmp", "1.log.gz"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o600)
	}
	got, err := Rotated(filepath.Join(dir, "1.log"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "1.log.20261206-120000.000000000"), filepath.Join(dir, "1.log.20261206-120000.000000001")}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Rotated = %v, want %v", got, want)
	}
}

// A followed read goes on across rotations: every line once, in order.
func TestFollowAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	rot := Rotation{MaxSize: 300, MaxFiles: 100}
	f, err := OpenFile(path, rot, fakeNow())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte(numbered(0)))
	var running atomic.Bool
	running.Store(true)
	out := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- Read(context.Background(), path, Options{Tail: -1, Follow: true, Running: running.Load,
			PollInterval: time.Millisecond}, out, out)
	}()
	waitFor(t, "the first line", func() bool { return out.String() == "line 0000\n" })
	const n = 200
	for i := 1; i < n; i++ {
		f.Write([]byte(numbered(i)))
		if i%37 == 0 { // sometimes the reader catches up
			want := fmt.Sprintf("line %04d\n", i)
			waitFor(t, "line "+fmt.Sprint(i), func() bool { return strings.HasSuffix(out.String(), want) })
		}
	}
	running.Store(false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&want, "line %04d\n", i)
	}
	if out.String() != want.String() {
		t.Errorf("followed across rotations:\n%s\nwant every line once", out.String())
	}
	if old, _ := Rotated(path); len(old) < 10 {
		t.Errorf("only %d rotations", len(old))
	}
}
