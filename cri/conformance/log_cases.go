package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/crilog"
)

// floodRotation is the rotation of the log cases: 8 KiB files (about a
// hundred records of a Flood line), three of them.
var floodRotation = crilog.Rotation{MaxSize: 8 << 10, MaxFiles: 3}

// testLogRotation: the runtime's logger rotates a container's log at its
// size and keeps the newest files, every line whole, none missing
// between the first kept and the last written.
func testLogRotation(s *suite) { s.checkFloodRotation(false) }

// testLogRotationWithStdio: so does the output of a container that keeps
// its stdio in the runtime.
func testLogRotationWithStdio(s *suite) { s.checkFloodRotation(true) }

func (s *suite) checkFloodRotation(stdin bool) {
	s.pull()
	p := s.sandbox(nil)
	logPath := filepath.Join(s.t.TempDir(), "pods", p.uid, "flood", "0.log")
	b := Behaviour{Kind: Flood, Lines: 1000}
	id := s.create(p, "flood", b, func(c *cri.ContainerConfig) {
		c.LogPath, c.LogRotation, c.Stdin = logPath, floodRotation, stdin
	})
	s.start(id, b)
	s.waitState(id, cri.ContainerExited)
	s.eventually("the last line in the current log", func() error {
		data, err := os.ReadFile(logPath)
		if err != nil {
			return err
		}
		if want := " stdout F " + FloodLine(b.Lines-1) + "\n"; !strings.HasSuffix(string(data), want) {
			return fmt.Errorf("the log ends %q", tail(string(data), 80))
		}
		return nil
	})
	kept := s.keptFloodLines(logPath)
	first := b.Lines - len(kept)
	for i, line := range kept {
		if line != FloodLine(first+i) {
			s.t.Fatalf("kept line %d is %q, want %q: a line lost, split or out of order", i, line, FloodLine(first+i))
		}
	}
	// Three files of 8 KiB hold about 300 of the 1000 lines, at least two
	// files' worth.
	if len(kept) < 180 || len(kept) > 330 {
		s.t.Errorf("%d lines kept in %d files of %d bytes", len(kept), floodRotation.MaxFiles, floodRotation.MaxSize)
	}
}

// keptFloodLines reads the rotated files, oldest first, then the current
// one: each a whole number of records within the size, and all of them
// no more than MaxFiles.
func (s *suite) keptFloodLines(logPath string) []string {
	s.t.Helper()
	files, err := crilog.Rotated(logPath)
	if err != nil {
		s.t.Fatal(err)
	}
	files = append(files, logPath)
	if len(files) != floodRotation.MaxFiles {
		s.t.Errorf("%d log files, want %d: %v", len(files), floodRotation.MaxFiles, files)
	}
	var lines []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			s.t.Fatal(err)
		}
		if int64(len(data)) > floodRotation.MaxSize || !strings.HasSuffix(string(data), "\n") {
			s.t.Errorf("%s: %d bytes, ends %q", filepath.Base(f), len(data), tail(string(data), 20))
		}
		for _, rec := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			r, err := crilog.ParseRecord([]byte(rec))
			if err != nil || r.Partial || r.Stream != crilog.Stdout {
				s.t.Fatalf("%s: record %q: %+v %v", filepath.Base(f), rec, r, err)
			}
			lines = append(lines, string(r.Content))
		}
	}
	return lines
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// testImageFs: the image filesystem has a size, room within it, and holds
// the pulled image's bytes, which go with the image.
func testImageFs(s *suite) {
	id := s.pull()
	img, err := s.rt.ImageStatus(s.ctx, id)
	if err != nil {
		s.t.Fatal(err)
	}
	fs, err := s.rt.ImageFsInfo(s.ctx)
	if err != nil {
		s.t.Fatalf("ImageFsInfo: %v", err)
	}
	if fs.Path == "" || fs.CapacityBytes == 0 || fs.AvailableBytes > fs.CapacityBytes || fs.Inodes == 0 || fs.InodesFree > fs.Inodes {
		s.t.Errorf("ImageFsInfo = %+v", fs)
	}
	if fs.UsedBytes < uint64(img.Size) {
		s.t.Errorf("ImageFsInfo used %d bytes, less than the image's %d", fs.UsedBytes, img.Size)
	}
	if err := s.rt.RemoveImage(s.ctx, id); err != nil {
		s.t.Fatal(err)
	}
	after, err := s.rt.ImageFsInfo(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	if after.UsedBytes+uint64(img.Size) > fs.UsedBytes {
		s.t.Errorf("used %d bytes before RemoveImage, %d after; the image had %d", fs.UsedBytes, after.UsedBytes, img.Size)
	}
}
