package localdriver

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nodeagent/nodeagent/volumes"
)

// record is what the driver knows of one staged volume, kept in
// stage.json beside the staging path and written (atomically, synced)
// before each step begins: a driver that restarts after a crash at any
// point reads where it was.
type record struct {
	VolumeID string `json:"volumeID"`
	Backing  string `json:"backing"`        // file, device or dir
	Path     string `json:"path"`           // the backing file, device or directory
	Loop     string `json:"loop,omitempty"` // the loop device last attached (informative: found again by the file)
	FsType   string `json:"fsType,omitempty"`
	Block    bool   `json:"block,omitempty"`
	// Formatted is set once the device holds its filesystem (made here or
	// found): from then on the device is never formatted again, even if a
	// probe finds nothing (that is an error to look at, not an empty disk).
	Formatted bool `json:"formatted,omitempty"`
	Step      Step `json:"step"`
}

// Step is a stage step, recorded before it begins.
type Step string

// The steps of NodeStageVolume, in order.
const (
	StepAttach Step = "attach" // create the backing file, attach a loop device
	StepFormat Step = "format" // probe, format an empty device
	StepMount  Step = "mount"  // mount at the staging path
	StepStaged Step = "staged" // done
)

const recordFile = "stage.json"

// recordPath: the record lives in the staging path's parent, the
// volume's own directory (the staging path is mounted over).
func recordPath(stagingPath string) string {
	return filepath.Join(filepath.Dir(stagingPath), recordFile)
}

// readRecord returns the record, or nil when there is none.
func readRecord(stagingPath string) (*record, error) {
	b, err := os.ReadFile(recordPath(stagingPath))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", recordPath(stagingPath), err)
	}
	return &r, nil
}

// writeRecord replaces the record: a temp file, fsync, rename, fsync of
// the directory, so that a crash leaves the old or the new one whole.
func writeRecord(stagingPath string, r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return volumes.WriteFileSync(recordPath(stagingPath), b)
}

func removeRecord(stagingPath string) error {
	if err := os.Remove(recordPath(stagingPath)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
