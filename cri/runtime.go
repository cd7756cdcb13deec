package cri

import (
	"context"
	"io"
	"time"
)

// Labels that carry the pod's identity on sandboxes and containers.
const (
	LabelPodUID        = "io.nodeagent.pod.uid"
	LabelPodNamespace  = "io.nodeagent.pod.namespace"
	LabelPodName       = "io.nodeagent.pod.name"
	LabelContainerName = "io.nodeagent.container.name"
	LabelAttempt       = "io.nodeagent.container.attempt"
	LabelKind          = "io.nodeagent.kind" // "sandbox" or "container"
)

// Runtime runs pod sandboxes and their containers.
type Runtime interface {
	// Version names the runtime and its version, e.g. "containerd://2.4.2".
	Version(ctx context.Context) (string, error)

	// RunPodSandbox starts a sandbox: the process that holds the pod's IPC
	// and UTS namespaces and joins the network namespace at cfg.NetNSPath.
	RunPodSandbox(ctx context.Context, cfg SandboxConfig) (string, error)
	// StopPodSandbox stops the sandbox process (and every container in it).
	StopPodSandbox(ctx context.Context, id string) error
	// RemovePodSandbox removes a stopped sandbox; removing one that is gone
	// is not an error.
	RemovePodSandbox(ctx context.Context, id string) error
	// ListPodSandboxes lists sandboxes whose labels include every label in filter.
	ListPodSandboxes(ctx context.Context, filter map[string]string) ([]Sandbox, error)

	// CreateContainer creates (does not start) a container in a sandbox.
	CreateContainer(ctx context.Context, sandboxID string, cfg ContainerConfig) (string, error)
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends the stop signal, waits up to timeout, then SIGKILL.
	StopContainer(ctx context.Context, id string, timeout time.Duration) error
	// RemoveContainer removes a stopped container and its writable layer;
	// removing one that is gone is not an error.
	RemoveContainer(ctx context.Context, id string) error
	// ListContainers lists containers whose labels include every label in filter.
	ListContainers(ctx context.Context, filter map[string]string) ([]Container, error)
	ContainerStatus(ctx context.Context, id string) (Container, error)
	// ExecSync runs cmd in the container and returns its output and exit code.
	ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (ExecResult, error)
	// Exec runs cmd in running container id, connected to s, and returns
	// its exit code once it has exited and its output is written.
	Exec(ctx context.Context, id string, cmd []string, s Streams) (int32, error)
	// Attach connects s to running container id's own process: its output
	// from now on, and its stdin when it was created with Stdin. It returns
	// when the container's output ends, when the client's output fails, or
	// when s.Stdin ends (which closes the container's stdin if it was
	// created StdinOnce without a TTY), or when ctx ends. A container made
	// with TTY is attached with a terminal whatever s.TTY says.
	Attach(ctx context.Context, id string, s Streams) error
	// PortForward connects stream to TCP port on the loopback address of
	// running sandbox id's network namespace, and copies both ways until
	// both directions end; it closes stream.
	PortForward(ctx context.Context, sandboxID string, port int32, stream io.ReadWriteCloser) error

	// PullImage pulls ref (with credentials when auth is not nil) and returns its ID.
	PullImage(ctx context.Context, ref string, auth *AuthConfig) (string, error)
	// ImageStatus returns the image, or ErrNotFound.
	ImageStatus(ctx context.Context, ref string) (Image, error)
	// ListImages lists the images, ordered by ID.
	ListImages(ctx context.Context) ([]Image, error)
	// RemoveImage removes the image with every name it has, and what it
	// alone takes on disk; removing one that is gone is not an error.
	RemoveImage(ctx context.Context, ref string) error
	// ImageFsInfo describes the filesystem that holds the images: its
	// size and free space, and what the images take there.
	ImageFsInfo(ctx context.Context) (FsInfo, error)

	// Events streams lifecycle events until ctx ends or the stream breaks
	// (the channel is then closed; the caller reconnects and relists).
	Events(ctx context.Context) (<-chan Event, error)
}
