// Package fake is an in-memory cri.Runtime with real state: sandboxes,
// containers that move Created → Running → Exited, images, and an event
// stream fanned out to every subscriber. Tests drive what a real runtime's
// processes would do through hooks (ExitContainer, OOM, FailNextPull, ...).
package fake

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/internal/ctrio"
)

var _ cri.Runtime = &Fake{}

// Version is what Fake.Version reports.
const Version = "fake://0.1"

// Exit codes the fake reports for processes it stops, as runc would for a
// process killed by the signal.
const (
	ExitCodeSIGTERM = 128 + 15
	ExitCodeSIGKILL = 128 + 9
)

// Fake is an in-memory cri.Runtime. The zero value is not usable: call New.
// Fakes made by Reopen share their state, as two agents share one containerd.
type Fake struct {
	st *state
}

// ExecHandler answers ExecSync for container id.
type ExecHandler func(id string, cmd []string) (cri.ExecResult, error)

type state struct {
	mu         sync.Mutex
	now        func() time.Time
	nextID     int
	nextPid    int
	sandboxes  map[string]*sandbox
	containers map[string]*container
	images     map[string]*cri.Image // by ID
	pullErrs   map[string][]error    // by ref, in order
	failNext   map[string]error      // by method name
	subs       map[*subscriber]bool
	exec       ExecHandler
	streamExec StreamExecHandler
	ports      map[string]map[int32]PortHandler // by sandbox, by port
	// imageFsCapacity is the image filesystem's size; imageFsOther what
	// takes space there besides the images (SetImageFs).
	imageFsCapacity, imageFsOther uint64
}

type sandbox struct {
	cri.Sandbox
	cfg cri.SandboxConfig
}

type container struct {
	cri.Container
	cfg        cri.ContainerConfig
	ignoreTerm bool
	exited     chan struct{} // closed when the container leaves Running
	stdio      *ctrio.IO     // for a container with stdin or a TTY, once started
	termSize   cri.TermSize  // the last size an attached client set
}

// New returns an empty Fake whose clock is time.Now and whose ExecSync
// succeeds with no output (Exec too, unless SetStreamExecHandler).
func New() *Fake {
	return &Fake{st: &state{
		now:        time.Now,
		nextPid:    1000,
		sandboxes:  map[string]*sandbox{},
		containers: map[string]*container{},
		images:     map[string]*cri.Image{},
		pullErrs:   map[string][]error{},
		failNext:   map[string]error{},
		subs:       map[*subscriber]bool{},
		exec: func(string, []string) (cri.ExecResult, error) {
			return cri.ExecResult{}, nil
		},
		ports:           map[string]map[int32]PortHandler{},
		imageFsCapacity: DefaultImageFsCapacity,
	}}
}

// Reopen returns a new Fake over the same state, as a restarted agent sees
// the runtime it left: the same sandboxes, containers and images.
func (f *Fake) Reopen() *Fake { return &Fake{st: f.st} }

// Version implements cri.Runtime.
func (f *Fake) Version(ctx context.Context) (string, error) {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	if err := f.st.takeFailure("Version"); err != nil {
		return "", err
	}
	return Version, nil
}

// newID returns a unique, readable ID; the caller holds the lock.
func (s *state) newID(prefix string) string {
	s.nextID++
	return fmt.Sprintf("%s%06d", prefix, s.nextID)
}

// newPid returns a fresh process ID; the caller holds the lock.
func (s *state) newPid() int {
	s.nextPid++
	return s.nextPid
}

// takeFailure returns and forgets the error injected for method; the caller
// holds the lock.
func (s *state) takeFailure(method string) error {
	err := s.failNext[method]
	delete(s.failNext, method)
	return err
}

func notFound(kind, id string) error {
	return fmt.Errorf("%s %q: %w", kind, id, cri.ErrNotFound)
}
