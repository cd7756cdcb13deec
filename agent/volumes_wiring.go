package agent

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/agent/volumemanager"
	"github.com/nodeagent/nodeagent/volumes"
	"github.com/nodeagent/nodeagent/volumes/localdriver"
)

// volumeKernel are the volume code's kernel edges (fakes in tests).
type volumeKernel struct {
	mounter   volumes.Mounter
	loop      volumes.Loop
	formatter volumes.Formatter
}

// BackingDirName holds the files of file-backed volumes, beneath the
// agent's root directory.
const BackingDirName = "volumes-backing"

// newVolumeManager wires the volume manager: pod directories laid out by
// pods, the local.nodeagent.io driver on the kernel edges, the API read
// through volumeSource, the storage control plane (attachments, the
// backing-file finalizer) through the agent's client, events through the
// agent's recorder.
func (a *Agent) newVolumeManager(pods *volumes.Manager, k volumeKernel) (*volumemanager.Manager, error) {
	log := a.log.With("component", "volumemanager")
	driver := localdriver.New(localdriver.Config{BackingDir: filepath.Join(a.cfg.RootDir, BackingDirName), Loop: k.loop,
		Formatter: k.formatter, Mounter: k.mounter, Log: log.With("driver", localdriver.Name), Hold: a.testHold()})
	var control volumemanager.ControlPlane
	if a.client != nil { // nil for `agent --cleanup`
		control = volumemanager.NewControlPlane(a.client)
	}
	return volumemanager.New(volumemanager.Config{RootDir: a.cfg.RootDir, Pods: pods, Mounter: k.mounter,
		Plugins: map[string]volumes.NodePlugin{localdriver.Name: driver}, Source: volumeSource{a}, Recorder: eventRecorder{a},
		Clock: a.clock, Log: log, RefreshPeriod: a.cfg.VolumeRefreshPeriod, OnReady: a.volumesReady,
		NodeName: a.cfg.NodeName, Control: control})
}

// volumesReady wakes the worker of a pod whose volumes became ready.
func (a *Agent) volumesReady(uid types.UID) {
	if a.queue != nil && a.pods != nil {
		a.enqueueUID(string(uid))
	}
}

// waitForVolumes holds back the pod's containers until its volumes are
// ready (kubelet's WaitForAttachAndMount). Not ready is no failure of the
// sync: the volume manager wakes the pod when they are, and records
// FailedMount events meanwhile; the pod is looked at again in a while in
// any case.
func (a *Agent) waitForVolumes(ctx context.Context, pod *corev1.Pod) (bool, error) {
	_, err := a.volumeManager.WaitForMount(ctx, pod)
	if errors.Is(err, volumemanager.ErrNotReady) {
		a.log.Info("waiting for the pod's volumes", "pod", podKey(pod), "why", err)
		if a.queue != nil {
			a.queue.AddAfter(podWorkKey(pod), 10*time.Second)
		}
		return false, nil
	}
	return err == nil, err
}

// testHold is the test-only stop of a volume stage at a step
// (Config.TestHoldVolumeStep): the stage logs and then waits for the
// agent to be killed.
func (a *Agent) testHold() func(context.Context, string, localdriver.Step) {
	step := localdriver.Step(a.cfg.TestHoldVolumeStep)
	if step == "" {
		return nil
	}
	return func(ctx context.Context, volume string, s localdriver.Step) {
		if s != step {
			return
		}
		a.log.Warn(fmt.Sprintf("test hold: volume %s stopped before step %s", volume, s))
		<-ctx.Done()
	}
}

// cleanupVolumes unpublishes and unstages every volume the agent's
// records name, and has the driver detach the loop devices of its backing
// files whatever the records say: `agent --cleanup`. The backing files
// (the volumes' data) stay.
func (a *Agent) cleanupVolumes(ctx context.Context) error {
	return a.volumeManager.CleanupAll(ctx)
}
