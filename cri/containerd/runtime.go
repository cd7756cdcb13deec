package containerd

import (
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/nodeagent/nodeagent/cri"
)

var _ cri.Runtime = &Runtime{}

// Config configures a Runtime. Zero fields take the defaults that
// DefaultConfig documents.
type Config struct {
	// Address is containerd's gRPC socket.
	// Default /run/nodeagent/containerd/containerd.sock.
	Address string
	// Namespace is the containerd namespace that holds everything this
	// runtime makes: images, containers, tasks, snapshots. Default "nodeagent".
	Namespace string
	// Snapshotter unpacks images and holds container root filesystems.
	// Default "overlayfs".
	Snapshotter string
	// Runtime is containerd's runtime (shim) for tasks.
	// Default "io.containerd.runc.v2".
	Runtime string
	// RuncRoot is where runc keeps its state, in <RuncRoot>/<Namespace>,
	// when Runtime is io.containerd.runc.v2; nodeagent's own, so that it
	// never meets another containerd's. Default /run/nodeagent/runc.
	RuncRoot string
	// StateDir holds the sandboxes' shared root filesystem,
	// <StateDir>/pause-rootfs. Default /var/lib/nodeagent/cri.
	StateDir string
	// FIFODir holds the FIFOs of ExecSync processes while they run.
	// Default /run/nodeagent/cri/fifo.
	FIFODir string
	// PauseBinary is a static executable, bind-mounted read-only at /pause
	// in every sandbox and run there as `/pause PauseArgs...`: the small
	// nodeagent-pause (cmd/nodeagent picks it, see its helpers.go) or
	// nodeagent itself. Default: this process's executable (os.Executable).
	PauseBinary string
	// PauseArgs are the pause process's arguments. Default ["pause"].
	PauseArgs []string
	// LoggerBinary is run by containerd's shim, outside any container, for
	// every container with a log path, as
	// `<LoggerBinary> <LoggerCommand> <log path>`; see cri/crilogger: the
	// small nodeagent-logger or nodeagent itself. Default: this process's
	// executable (os.Executable).
	LoggerBinary string
	// LoggerCommand is the logger's first argument. The shim passes
	// arguments as key/value pairs of a URI query, in no fixed order, so the
	// logger gets exactly this word and the log path. Default "cri-logger".
	LoggerCommand string
	// DefaultCgroupParent is the cgroup parent of sandboxes whose
	// SandboxConfig.CgroupParent is empty (cgroupfs path). Default "/nodeagent".
	DefaultCgroupParent string
	// KillTimeout bounds the wait for a SIGKILLed process to be reaped.
	// Default 30s.
	KillTimeout time.Duration
}

// DefaultConfig returns the configuration nodeagent runs with.
func DefaultConfig() Config {
	self, _ := os.Executable()
	return Config{
		Address:             "/run/nodeagent/containerd/containerd.sock",
		Namespace:           "nodeagent",
		Snapshotter:         "overlayfs",
		Runtime:             runcRuntime,
		RuncRoot:            "/run/nodeagent/runc",
		StateDir:            "/var/lib/nodeagent/cri",
		FIFODir:             "/run/nodeagent/cri/fifo",
		PauseBinary:         self,
		PauseArgs:           []string{"pause"},
		LoggerBinary:        self,
		LoggerCommand:       "cri-logger",
		DefaultCgroupParent: "/nodeagent",
		KillTimeout:         30 * time.Second,
	}
}

// runcRuntime is containerd's runc shim.
const runcRuntime = "io.containerd.runc.v2"

// withDefaults fills the zero fields of c from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	fill := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	fill(&c.Address, d.Address)
	fill(&c.Namespace, d.Namespace)
	fill(&c.Snapshotter, d.Snapshotter)
	fill(&c.Runtime, d.Runtime)
	fill(&c.RuncRoot, d.RuncRoot)
	fill(&c.StateDir, d.StateDir)
	fill(&c.FIFODir, d.FIFODir)
	fill(&c.PauseBinary, d.PauseBinary)
	fill(&c.LoggerBinary, d.LoggerBinary)
	fill(&c.LoggerCommand, d.LoggerCommand)
	fill(&c.DefaultCgroupParent, d.DefaultCgroupParent)
	if c.PauseArgs == nil {
		c.PauseArgs = d.PauseArgs
	}
	if c.KillTimeout == 0 {
		c.KillTimeout = d.KillTimeout
	}
	return c
}

// Runtime is a cri.Runtime over containerd. It keeps no state of its own
// beyond a cache of pod UIDs for events: everything lives in containerd.
// Its methods may be called concurrently.
type Runtime struct {
	cfg    Config
	client *client.Client
	log    *slog.Logger
	now    func() time.Time
	// oomFloor is the least oom_score_adj a container can be given
	// (oomscore.go).
	oomFloor int

	// bg is the runtime's own context (in its namespace), cancelled by
	// Close: what it does in the background (kept stdio) ends with it.
	bg     context.Context
	stopBg context.CancelFunc

	mu      sync.Mutex
	podRefs map[string]podRef    // by containerd container ID, for events
	stdio   map[string]keptStdio // by container ID (container_io.go)
}

// New connects to containerd, prepares the sandbox root filesystem and
// takes over the stdio of running containers that keep one.
func New(cfg Config, log *slog.Logger) (*Runtime, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("runtime configuration: %w", err)
	}
	if err := checkStatic(cfg.PauseBinary); err != nil {
		return nil, fmt.Errorf("pause binary: %w", err)
	}
	if _, err := pauseRootfs(cfg.StateDir); err != nil {
		return nil, err
	}
	c, err := client.New(cfg.Address, client.WithDefaultNamespace(cfg.Namespace))
	if err != nil {
		return nil, fmt.Errorf("connect to containerd at %s: %w", cfg.Address, err)
	}
	r := &Runtime{cfg: cfg, client: c, log: log, now: time.Now, podRefs: map[string]podRef{}, stdio: map[string]keptStdio{},
		oomFloor: oomScoreFloor("/proc/self")}
	if r.oomFloor != noOOMFloor {
		log.Info("no CAP_SYS_RESOURCE: oom_score_adj below the inherited one is not set", "least", r.oomFloor)
	}
	r.bg, r.stopBg = context.WithCancel(namespaces.WithNamespace(context.Background(), cfg.Namespace))
	if err := r.resumeStdio(); err != nil {
		log.Warn("could not take over the stdio of every running container", "err", err)
	}
	return r, nil
}

// Close gives up the stdio it kept (the next runtime takes it over) and
// closes the connection to containerd; what runs keeps running.
func (r *Runtime) Close() error {
	r.stopBg()
	r.releaseStdio()
	return r.client.Close()
}

// Config returns the configuration in use, defaults filled in.
func (r *Runtime) Config() Config { return r.cfg }

// Version implements cri.Runtime: "containerd://" and the server's version.
func (r *Runtime) Version(ctx context.Context) (string, error) {
	v, err := r.client.Version(r.ns(ctx))
	if err != nil {
		return "", fmt.Errorf("containerd version: %w", err)
	}
	return "containerd://" + v.Version, nil
}

// runtimeOpt selects the runtime (shim) for a new container.
func (r *Runtime) runtimeOpt() client.NewContainerOpts {
	if r.cfg.Runtime != runcRuntime {
		return client.WithRuntime(r.cfg.Runtime, nil)
	}
	return client.WithRuntime(r.cfg.Runtime, &options.Options{Root: r.cfg.RuncRoot})
}

// ns returns ctx in the runtime's containerd namespace.
func (r *Runtime) ns(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.cfg.Namespace)
}

// newID returns a random 64-hex-digit ID, as Kubernetes runtimes use.
func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// checkStatic fails unless path is an executable without an ELF
// interpreter: the sandbox root filesystem has no libraries to load.
func checkStatic(path string) error {
	if path == "" {
		return errors.New("not set, and os.Executable failed")
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; build it with CGO_ENABLED=0", path)
		}
	}
	return nil
}

// pauseRootfs makes the read-only root filesystem every sandbox shares:
// mount points and an empty /pause file to bind the pause binary onto.
func pauseRootfs(stateDir string) (string, error) {
	root := filepath.Join(stateDir, "pause-rootfs")
	for _, d := range []string{"dev", "proc", "sys", "run", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return "", fmt.Errorf("make sandbox rootfs: %w", err)
		}
	}
	f, err := os.OpenFile(filepath.Join(root, "pause"), os.O_CREATE|os.O_RDONLY, 0o755)
	if err != nil {
		return "", fmt.Errorf("make sandbox rootfs: %w", err)
	}
	return root, f.Close()
}
