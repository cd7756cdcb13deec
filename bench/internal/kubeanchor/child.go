package kubeanchor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/proc"
)

// StopTimeout bounds how long a child may take to exit after SIGTERM
// before it is killed.
const StopTimeout = 20 * time.Second

// Child is a process a bench started, with its stdout and stderr in
// <dir>/<name>.log.
type Child struct {
	name    string
	proc    *proc.Process
	logFile *os.File
}

// StartChild runs bin with args, logging to dir/<name>.log. Should the
// bench die without stopping it, the child gets SIGTERM.
func StartChild(dir, name, bin string, args ...string) (*Child, error) {
	return StartChildWith((*exec.Cmd).Start, dir, name, bin, args...)
}

// StartChildWith is StartChild with start starting the command (a lab
// node's Start runs it inside the node's network namespace).
func StartChildWith(start func(*exec.Cmd) error, dir, name, bin string, args ...string) (*Child, error) {
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := start(cmd); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	return &Child{name: name, proc: proc.Watch(cmd), logFile: logFile}, nil
}

// Name is how errors and reports call the child.
func (c *Child) Name() string { return c.name }

// Exited is closed when the child has exited.
func (c *Child) Exited() <-chan struct{} { return c.proc.Exited() }

// Stop sends SIGTERM, waits for the exit (killing the process after
// StopTimeout) and closes the log.
func (c *Child) Stop() error {
	defer c.logFile.Close()
	if err := c.proc.Stop(StopTimeout); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}

// RSS is the child's resident set size (VmRSS) in bytes.
func (c *Child) RSS() (uint64, error) { return c.proc.RSS() }

// LogTail is the end of the child's log, for error messages.
func (c *Child) LogTail() string {
	tail, err := proc.LogTail(c.logFile.Name())
	if err != nil {
		return "(no " + c.name + " log)"
	}
	return c.name + " log (end):\n" + tail
}
