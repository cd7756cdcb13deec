package cri

import (
	"errors"
	"io"
	"time"

	"github.com/nodeagent/nodeagent/cri/crilog"
)

// ErrNotFound is returned (wrapped) for a sandbox, container or image that
// does not exist; test with errors.Is.
var ErrNotFound = errors.New("not found")

// SandboxConfig describes a pod sandbox.
type SandboxConfig struct {
	Name      string // a unique, readable name, e.g. <ns>_<pod>_<uid>_<attempt>
	Hostname  string
	NetNSPath string // the pod's network namespace; "" for host network
	// HostNetwork, HostIPC, HostPID share the node's namespaces.
	HostNetwork, HostIPC, HostPID bool
	// ResolvConf and Hosts are files bind-mounted into every container.
	ResolvConf, Hosts string
	// CgroupParent is the pod's cgroup (e.g. /nodeagent/pod<uid>).
	CgroupParent string
	Labels       map[string]string
	Annotations  map[string]string
}

// SandboxState says whether a sandbox's process runs.
type SandboxState string

const (
	SandboxReady    SandboxState = "Ready"
	SandboxNotReady SandboxState = "NotReady"
)

// Sandbox is a sandbox as the runtime reports it.
type Sandbox struct {
	ID        string
	Name      string
	State     SandboxState
	CreatedAt time.Time
	NetNSPath string
	Labels    map[string]string
	Pid       int // the sandbox process, 0 when stopped
}

// Mount is a bind mount into a container.
type Mount struct {
	HostPath      string
	ContainerPath string
	ReadOnly      bool
}

// Device is a device node of the host given to a container (a block
// volume), with the cgroup access it gets: "r", "w", "m" or a mix.
type Device struct {
	HostPath      string // a device node, or a file a device node is bound on
	ContainerPath string
	Permissions   string
}

// Resources are a container's cgroup limits.
type Resources struct {
	CPUShares   uint64 // cpu.shares (from requests)
	CPUQuota    int64  // microseconds per CPUPeriod (from limits); 0: none
	CPUPeriod   uint64
	MemoryLimit int64 // bytes; 0: none
	// OOMScoreAdj is the container's oom_score_adj (kubelet's QoS
	// policy); nil: the runtime's default.
	OOMScoreAdj *int
}

// SecurityContext is what a container may do.
type SecurityContext struct {
	RunAsUser, RunAsGroup *int64
	Privileged            bool
	CapAdd, CapDrop       []string
	ReadOnlyRootFS        bool
	NoNewPrivileges       bool
	SupplementalGroups    []int64
}

// ContainerConfig describes a container.
type ContainerConfig struct {
	Name       string // the pod's container name
	Image      string // an image ID or reference already pulled
	Command    []string
	Args       []string
	Env        []string // KEY=value
	WorkingDir string
	Mounts     []Mount
	Devices    []Device
	// LogPath is where stdout and stderr go, in CRI log format.
	LogPath string
	// LogRotation bounds the log: the runtime's writer rotates it at
	// MaxSize and keeps MaxFiles files (kubelet's containerLogMaxSize and
	// containerLogMaxFiles); zero: the log is never rotated.
	LogRotation crilog.Rotation
	Resources   Resources
	Security    SecurityContext
	StopSignal  string // from the image when empty
	Labels      map[string]string
	Annotations map[string]string
	// Stdin keeps the container's stdin open for Attach; TTY gives it a
	// terminal. StdinOnce closes its stdin when the first attached client's
	// stdin ends (without a TTY), as `kubectl run -i` expects.
	TTY, Stdin, StdinOnce bool
}

// ContainerState is where a container is in its life.
type ContainerState string

const (
	ContainerCreated ContainerState = "Created"
	ContainerRunning ContainerState = "Running"
	ContainerExited  ContainerState = "Exited"
	ContainerUnknown ContainerState = "Unknown"
)

// Container is a container as the runtime reports it.
type Container struct {
	ID         string
	SandboxID  string
	Name       string
	Image      string
	ImageID    string
	State      ContainerState
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int32
	Reason     string // e.g. "OOMKilled", "Completed", "Error"
	Pid        int
	Labels     map[string]string
	LogPath    string
}

// Image is a stored image.
type Image struct {
	ID   string
	Refs []string
	Size int64
}

// FsInfo is a filesystem as the runtime uses it.
type FsInfo struct {
	// Path is a directory on the filesystem (e.g. the snapshotter's root).
	Path string
	// CapacityBytes and AvailableBytes are the filesystem's size and the
	// bytes an unprivileged writer may still use (statfs).
	CapacityBytes, AvailableBytes uint64
	// UsedBytes are the bytes the runtime's images take there.
	UsedBytes uint64
	// Inodes and InodesFree count the filesystem's inodes.
	Inodes, InodesFree uint64
}

// UsagePercent is how full the filesystem is, in percent, as kubelet's
// image GC reckons it: 100 - available*100/capacity.
func (f FsInfo) UsagePercent() int {
	if f.CapacityBytes == 0 {
		return 0
	}
	return 100 - int(f.AvailableBytes*100/f.CapacityBytes)
}

// AuthConfig is a registry credential.
type AuthConfig struct {
	Username, Password string
}

// ErrNotRunning is returned (wrapped) by Exec, Attach and PortForward when
// the container or sandbox exists but does not run.
var ErrNotRunning = errors.New("not running")

// TermSize is a terminal's size in characters.
type TermSize struct {
	Width, Height uint16
}

// Streams connect a process to a client. A nil stream is not connected:
// the process's stdin is then empty, its output discarded. With TTY the
// process has a terminal, which merges stderr into stdout; Resize, if not
// nil, carries the client's terminal size until it is closed.
type Streams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	TTY            bool
	Resize         <-chan TermSize
}

// ExecResult is the outcome of ExecSync.
type ExecResult struct {
	Stdout, Stderr []byte
	ExitCode       int32
}

// EventType is what happened.
type EventType string

const (
	EventContainerCreated EventType = "ContainerCreated"
	EventContainerStarted EventType = "ContainerStarted"
	EventContainerExited  EventType = "ContainerExited"
	EventContainerOOM     EventType = "ContainerOOM"
	EventContainerDeleted EventType = "ContainerDeleted"
	EventSandboxExited    EventType = "SandboxExited"
)

// Event is one lifecycle event, with the pod it belongs to when known.
type Event struct {
	Type        EventType
	ContainerID string // or sandbox ID
	PodUID      string
	Time        time.Time
}
