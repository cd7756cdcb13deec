package gc

import (
	"context"
	"time"

	"github.com/nodeagent/nodeagent/cri"
)

// Runtime is what the collectors use of cri.Runtime.
type Runtime interface {
	ListPodSandboxes(ctx context.Context, filter map[string]string) ([]cri.Sandbox, error)
	RemovePodSandbox(ctx context.Context, id string) error
	ListContainers(ctx context.Context, filter map[string]string) ([]cri.Container, error)
	StopContainer(ctx context.Context, id string, timeout time.Duration) error
	RemoveContainer(ctx context.Context, id string) error
	ListImages(ctx context.Context) ([]cri.Image, error)
	RemoveImage(ctx context.Context, ref string) error
	ImageFsInfo(ctx context.Context) (cri.FsInfo, error)
}

var _ Runtime = cri.Runtime(nil)

// PodState is what the agent knows of pods, as kubelet's
// PodStateProvider.
type PodState interface {
	// AllSourcesReady: the agent has listed every pod it runs (API and
	// static), so a pod it does not know is gone. Until then nothing is
	// taken for a deleted pod's.
	AllSourcesReady() bool
	// PodDeleted reports that the pod with this uid is gone from the node
	// (deleted from the API, no static pod): its dead containers and, once
	// the runtime holds nothing of it, its logs may go.
	PodDeleted(uid string) bool
}

// Recorder records an event on the node.
type Recorder interface {
	NodeEventf(eventType, reason, format string, args ...any)
}

// Events the collectors record, with kubelet's reasons.
const (
	ReasonContainerGCFailed   = "ContainerGCFailed"
	ReasonImageGCFailed       = "ImageGCFailed"
	ReasonFreeDiskSpaceFailed = "FreeDiskSpaceFailed"
)
