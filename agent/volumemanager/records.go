package volumemanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/volumes"
)

// The manager's records on disk, written whole (temp file, fsync,
// rename) before the step they announce, so that a restarted agent
// finds every volume it staged or published, whatever the API says:
//
//	plugins/kubernetes.io/csi/<driver>/<sha256 of handle>/vol_data.json    a staged volume
//	pods/<uid>/volumes/kubernetes.io~csi/<pv name>/vol_data.json         a published one
//
// Publish targets beside the latter: mount (a filesystem's directory) or
// dev (a block volume's device node, bound on a file).
const recordName = "vol_data.json"

// Publish target names in a published volume's directory.
const (
	mountTarget  = "mount"
	deviceTarget = "dev"
)

// stagedRecord names a staged volume enough to unstage it with no API.
type stagedRecord struct {
	Driver       string `json:"driver"`
	VolumeHandle string `json:"volumeHandle"`
	PVName       string `json:"specVolID"`
	Block        bool   `json:"block,omitempty"`
	// Staged is set once NodeStageVolume has succeeded.
	Staged bool `json:"staged,omitempty"`
}

// publishedRecord names a pod's published volume.
type publishedRecord struct {
	Driver       string `json:"driver"`
	VolumeHandle string `json:"volumeHandle"`
	PVName       string `json:"specVolID"`
	Block        bool   `json:"block,omitempty"`
	PodUID       string `json:"podUID"`
}

// stagingKey identifies a staged volume: its driver and handle.
type stagingKey struct{ driver, handle string }

func (k stagingKey) dir(root string) string { return volumes.StagingDir(root, k.driver, k.handle) }

func (k stagingKey) stagingPath(root string) string {
	return filepath.Join(k.dir(root), volumes.GlobalMountDir)
}

// publishKey identifies a pod's published volume: the pod and the PV.
type publishKey struct {
	uid    types.UID
	pvName string
}

func (k publishKey) dir(podsDir string) string {
	return filepath.Join(podsDir, string(k.uid), "volumes", string(volumes.KindCSI), k.pvName)
}

func (k publishKey) target(podsDir string, block bool) string {
	if block {
		return filepath.Join(k.dir(podsDir), deviceTarget)
	}
	return filepath.Join(k.dir(podsDir), mountTarget)
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return volumes.WriteFileSync(path, b)
}

// readJSON reads a record; a missing one is (false, nil).
func readJSON(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}
