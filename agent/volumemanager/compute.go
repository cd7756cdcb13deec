package volumemanager

import (
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// plan is one reconcile pass's work, in the order it is done: first what
// goes (unpublish, then unstage), then what comes (stage, publish), then
// the pod-directory volumes (set up, or written again).
type plan struct {
	unpublish []publishKey
	unstage   []stagingKey
	stage     []stagingKey
	publish   []podVolume
	setUp     []podVolume
}

// desiredPod is one pod of the desired state, as a pass sees it.
type desiredPod struct {
	uid     types.UID
	pod     *corev1.Pod
	version string // the pod's resourceVersion: downwardAPI content
	volumes map[string]*desiredVolume
}

// planInput is everything computePlan decides from.
type planInput struct {
	desired []desiredPod
	// gone are the pods whose volumes are to be unpublished: removed from
	// the desired state (finished, deleted, torn down).
	gone         map[types.UID]bool
	actual       actualState
	now          time.Time
	refresh      time.Duration // how often files are written again
	sourcesReady bool          // every pod that runs here is in desired
}

// computePlan compares the desired state with the actual one. A staged
// volume is unstaged once no desired pod uses it and no pod has it
// published, and (after a restart) only when every running pod is known:
// until then one not yet added may still want it.
func computePlan(in planInput) plan {
	var p plan
	wanted := map[stagingKey]bool{}
	for _, pod := range in.desired {
		for _, name := range sortedNames(pod.volumes) {
			v := pod.volumes[name]
			pv := podVolume{uid: pod.uid, name: name}
			if v.kind == kindCSI {
				wanted[v.csi.key] = true
				p.addPublish(in, pv, v)
				continue
			}
			if needsSetUp(in, pv, v, pod.version) {
				p.setUp = append(p.setUp, pv)
			}
		}
	}
	stillPublished := map[stagingKey]bool{}
	for _, k := range sortedPublished(in.actual.published) {
		r := in.actual.published[k]
		if in.gone[k.uid] {
			p.unpublish = append(p.unpublish, k)
			continue
		}
		stillPublished[r.stagedKey()] = true
	}
	for _, k := range sortedStaged(in.actual.staged) {
		if !wanted[k] && !stillPublished[k] && in.sourcesReady {
			p.unstage = append(p.unstage, k)
		}
	}
	return p
}

// addPublish plans the stage (once per staged volume; the plugin's stage
// is idempotent and cheap once done) and the publish of a CSI volume not
// published, or whose publish lost its mount.
func (p *plan) addPublish(in planInput, pv podVolume, v *desiredVolume) {
	k := publishKey{uid: pv.uid, pvName: v.csi.pvName}
	if _, ok := in.actual.published[k]; ok && in.actual.mounted[k] {
		return
	}
	if !containsKey(p.stage, v.csi.key) {
		p.stage = append(p.stage, v.csi.key)
	}
	p.publish = append(p.publish, pv)
}

// needsSetUp: not set up yet, made from an older pod (downwardAPI), or
// due to be written again.
func needsSetUp(in planInput, pv podVolume, v *desiredVolume, version string) bool {
	s, ok := in.actual.setUp[pv]
	switch {
	case !ok:
		return true
	case !v.refreshes():
		return false
	case v.src.DownwardAPI != nil || v.src.Projected != nil:
		if s.version != version {
			return true
		}
	}
	return !in.now.Before(s.at.Add(in.refresh))
}

func containsKey(keys []stagingKey, k stagingKey) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

func sortedNames(m map[string]*desiredVolume) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func sortedPublished(m map[publishKey]publishedRecord) []publishKey {
	out := make([]publishKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].uid < out[j].uid || out[i].uid == out[j].uid && out[i].pvName < out[j].pvName
	})
	return out
}

func sortedStaged(m map[stagingKey]stagedRecord) []stagingKey {
	out := make([]stagingKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].driver < out[j].driver || out[i].driver == out[j].driver && out[i].handle < out[j].handle
	})
	return out
}
