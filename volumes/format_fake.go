package volumes

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// FakeFormatter keeps a "filesystem" as a marker at the start of the file
// behind a device (a FakeLoop's backing file, or a regular file standing
// in for a disk), so that it survives detaching, re-attaching and a
// restarted agent, and counts the formats of each file.
type FakeFormatter struct {
	// Resolve maps a device to the file that holds its data.
	Resolve func(dev string) string
	mu      sync.Mutex
	formats map[string]int
}

var _ Formatter = &FakeFormatter{}

const (
	fakeFSMagic = "NODEAGENT-FAKEFS:"
	// FakePartitionTable, written at the start of a file, makes Probe
	// find a partition table there.
	FakePartitionTable = "NODEAGENT-FAKEPT\n"
)

// NewFakeFormatter returns a fake on the devices of loop (a device that
// is not a loop device is its own file).
func NewFakeFormatter(loop *FakeLoop) *FakeFormatter {
	return &FakeFormatter{formats: map[string]int{}, Resolve: func(dev string) string {
		if p := loop.Backing(dev); p != "" {
			return p
		}
		return dev
	}}
}

// Probe reads the marker.
func (f *FakeFormatter) Probe(_ context.Context, dev string) (string, error) {
	head, err := f.head(dev)
	if err != nil {
		return "", err
	}
	switch {
	case bytes.HasPrefix(head, []byte(FakePartitionTable)):
		return "", fmt.Errorf("%s: %w: a gpt partition table", dev, ErrNotEmpty)
	case bytes.HasPrefix(head, []byte(fakeFSMagic)):
		typ, _, _ := strings.Cut(strings.TrimPrefix(string(head), fakeFSMagic), "\n")
		return typ, nil
	}
	return "", nil
}

func (f *FakeFormatter) head(dev string) ([]byte, error) {
	file, err := os.Open(f.Resolve(dev))
	if err != nil {
		return nil, err
	}
	defer file.Close()
	head := make([]byte, 64)
	n, err := file.Read(head)
	if n == 0 && err == io.EOF {
		return nil, nil // an empty (sparse) file: no signature
	}
	return head[:n], err
}

// Format writes the marker, refusing as mkfs does.
func (f *FakeFormatter) Format(_ context.Context, dev, fsType string, options []string) error {
	if _, err := mkfsArgs(fsType, options); err != nil {
		return err
	}
	p := f.Resolve(dev)
	file, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer file.Close()
	if _, err := file.WriteAt([]byte(fakeFSMagic+fsType+"\n"), 0); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.formats[p]++
	return nil
}

// Formats says how often the file behind dev (or the file itself) was
// formatted.
func (f *FakeFormatter) Formats(file string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.formats[file]
}
