package volumemanager

import (
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/volumes"
)

// actualState is what is staged, published and set up on the node. The
// staged and published volumes are read from the records and the mount
// table at every pass, so that they are right after a restart or a crash
// (kubelet reconstructs its actual state from the same places); what the
// manager sets up in the pod directories (emptyDir, files) is kept in
// memory and simply done again by a restarted agent.
type actualState struct {
	staged    map[stagingKey]stagedRecord
	published map[publishKey]publishedRecord
	// mounted: the publish target has its mount (a record whose mount is
	// gone is a publish to finish or to clean up).
	mounted map[publishKey]bool
	setUp   map[podVolume]setUpInfo
}

// podVolume names one volume of one pod.
type podVolume struct {
	uid  types.UID
	name string
}

// setUpInfo is a volume the manager set up in a pod's directory.
type setUpInfo struct {
	path     string
	readOnly bool
	at       time.Time
	// version is what the content was made from (the pod's resource
	// version for downwardAPI): a new one is written when it changes.
	version string
	// usage is a watched emptyDir's use of the disk, in bytes, at its
	// last check.
	usage int64
}

// readActual reads the records and the mount table.
func (m *Manager) readActual() (actualState, error) {
	a := actualState{staged: map[stagingKey]stagedRecord{}, published: map[publishKey]publishedRecord{},
		mounted: map[publishKey]bool{}, setUp: m.setUpCopy()}
	staged, _ := filepath.Glob(filepath.Join(m.cfg.RootDir, volumes.CSIPluginDir, "*", "*", recordName))
	for _, p := range staged {
		var r stagedRecord
		if ok, err := readJSON(p, &r); err != nil || !ok {
			m.cfg.Log.Warn("unreadable staged volume record", "file", p, "err", err)
			continue
		}
		a.staged[stagingKey{driver: r.Driver, handle: r.VolumeHandle}] = r
	}
	mounts, err := m.cfg.Mounter.List(m.podsDir())
	if err != nil {
		return a, err
	}
	isMount := map[string]bool{}
	for _, p := range mounts {
		isMount[p] = true
	}
	published, _ := filepath.Glob(filepath.Join(m.podsDir(), "*", "volumes", string(volumes.KindCSI), "*", recordName))
	for _, p := range published {
		var r publishedRecord
		if ok, err := readJSON(p, &r); err != nil || !ok {
			m.cfg.Log.Warn("unreadable published volume record", "file", p, "err", err)
			continue
		}
		k := publishKey{uid: types.UID(r.PodUID), pvName: r.PVName}
		a.published[k] = r
		a.mounted[k] = isMount[k.target(m.podsDir(), r.Block)]
	}
	return a, nil
}

// stagedKeyOf is the staged volume a published one comes from.
func (r publishedRecord) stagedKey() stagingKey {
	return stagingKey{driver: r.Driver, handle: r.VolumeHandle}
}
