package agent

import (
	"context"
	"os"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/nodeagent/nodeagent/agent/lifecycle"
	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/gc"
)

// newGC wires the image and container collectors (gc/) to the runtime and
// to what the agent knows of its pods.
func (a *Agent) newGC() (*gc.Manager, error) {
	return gc.New(a.cfg.GC, gc.Deps{Runtime: a.rt, Pods: gcPodState{a}, Recorder: nodeEvents{a}, Clock: a.clock,
		Log: a.log.With("component", "gc"), ContainerRemoved: a.containerCollected})
}

// DiskFreer is what the eviction manager calls to free disk before it
// evicts a pod: the agent's image and container collectors.
func (a *Agent) DiskFreer() gc.DiskFreer { return a.gc }

// GarbageCollect runs a container and an image collection now.
func (a *Agent) GarbageCollect(ctx context.Context) error {
	_, _, err := a.gc.GarbageCollect(ctx)
	return err
}

// gcPodState tells the collectors which pods are gone: once the agent has
// listed every pod (sourcesReady, after its first housekeeping round), a
// pod it knows neither from the API nor as a static pod.
type gcPodState struct{ a *Agent }

func (p gcPodState) AllSourcesReady() bool      { return p.a.sourcesReady.Load() }
func (p gcPodState) PodDeleted(uid string) bool { return !p.a.knownUID(uid) }

// nodeEvents records the collectors' events on the Node, as kubelet's.
type nodeEvents struct{ a *Agent }

func (e nodeEvents) NodeEventf(typ, reason, format string, args ...any) {
	ref := &corev1.ObjectReference{Kind: "Node", Name: e.a.cfg.NodeName, UID: types.UID(e.a.cfg.NodeName)}
	eventRecorder(e).Eventf(ref, typ, reason, format, args...)
}

// containerCollected removes the termination message file of a container
// the collector removed (its log is the collector's); labels read back
// from the runtime are checked before a path is made of them.
func (a *Agent) containerCollected(c cri.Container) {
	uid, name := c.Labels[cri.LabelPodUID], c.Labels[cri.LabelContainerName]
	attempt, err := strconv.Atoi(c.Labels[cri.LabelAttempt])
	if validUID(uid) != nil || len(validation.IsDNS1123Label(name)) > 0 || err != nil || attempt < 0 {
		return
	}
	path := lifecycle.MessageFilePath(a.podDir(uid), name, attempt)
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		a.log.Warn("removing a collected container's termination message file", "path", path, "err", err)
	}
}
