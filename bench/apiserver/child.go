package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/nodeagent/nodeagent/bench/internal/proc"
)

// child is a process the bench started, with its stdout and stderr in
// <dir>/<name>.log.
type child struct {
	name    string
	proc    *proc.Process
	logFile *os.File
}

// startChild runs bin with args, logging to dir/<name>.log. Should the
// bench die without stopping it, the child gets SIGTERM.
func startChild(dir, name, bin string, args ...string) (*child, error) {
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	return &child{name: name, proc: proc.Watch(cmd), logFile: logFile}, nil
}

// stop sends SIGTERM, waits for the exit (killing the process after
// stopTimeout) and closes the log.
func (c *child) stop() error {
	defer c.logFile.Close()
	if err := c.proc.Stop(stopTimeout); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}

// rss is the child's resident set size (VmRSS) in bytes.
func (c *child) rss() (uint64, error) { return c.proc.RSS() }

// logTail is the end of the child's log, for error messages.
func (c *child) logTail() string {
	tail, err := proc.LogTail(c.logFile.Name())
	if err != nil {
		return "(no " + c.name + " log)"
	}
	return c.name + " log (end):\n" + tail
}
