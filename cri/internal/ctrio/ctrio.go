// Package ctrio is the stdio of a container created with stdin or a TTY,
// kept by the runtime as containerd's CRI plugin keeps it: the process's
// output goes to its CRI log and to every attached client, and attached
// clients write to its stdin. The runtime connects the process side
// (ProcessStdin, ProcessStdout, ProcessStderr) to the container, through
// FIFOs for containerd or directly in the fake, and calls CloseOutput when
// the process's output has ended.
package ctrio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/crilog"
)

// Config says what a container's stdio is.
type Config struct {
	// LogPath is the CRI log the output is appended to; "" none.
	LogPath string
	// LogRotation rotates the log at its size (crilog.File).
	LogRotation crilog.Rotation
	// Stdin keeps an input the attached clients write to; StdinOnce closes
	// it when the first client's stdin ends (not with a TTY); TTY: the
	// process has a terminal, its output is all stdout.
	Stdin, StdinOnce, TTY bool
	// Now stamps log records; nil: time.Now.
	Now func() time.Time
}

// ErrNoStdin is returned (wrapped) when a client attaches stdin to a
// container created without it.
var ErrNoStdin = errors.New("the container was not created with stdin")

// IO is one container's stdio.
type IO struct {
	cfg            Config
	log            *crilog.File
	stdout, stderr *fanout
	stdinR         *io.PipeReader
	stdinW         *io.PipeWriter
	closeStdinOnce sync.Once
	ended          chan struct{}
	endOnce        sync.Once
}

// Open opens the log (appending) and makes the stdio.
func Open(cfg Config) (*IO, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &IO{cfg: cfg, ended: make(chan struct{})}
	var logOut io.Writer
	if cfg.LogPath != "" {
		f, err := crilog.OpenFile(cfg.LogPath, cfg.LogRotation, cfg.Now)
		if err != nil {
			return nil, fmt.Errorf("container log: %w", err)
		}
		c.log, logOut = f, f
	}
	c.stdout = newFanout(logOut, crilog.Stdout, cfg.Now)
	c.stderr = newFanout(logOut, crilog.Stderr, cfg.Now)
	if cfg.Stdin {
		c.stdinR, c.stdinW = io.Pipe()
	}
	return c, nil
}

// ProcessStdin is what the process reads as stdin; nil without Stdin.
func (c *IO) ProcessStdin() io.Reader {
	if c.stdinR == nil {
		return nil
	}
	return c.stdinR
}

// ProcessStdout is where the process's stdout (its terminal with TTY) goes.
func (c *IO) ProcessStdout() io.Writer { return c.stdout }

// ProcessStderr is where the process's stderr goes; nil with TTY.
func (c *IO) ProcessStderr() io.Writer {
	if c.cfg.TTY {
		return nil
	}
	return c.stderr
}

// Ended is closed when the output has ended (CloseOutput or Release).
func (c *IO) Ended() <-chan struct{} { return c.ended }

// CloseOutput ends the output: incomplete lines go to the log as full
// records, the log is closed, attached clients are detached. Stdin is
// closed too.
func (c *IO) CloseOutput() error {
	return c.end(func(f *fanout) error { return f.close(false) })
}

// Release gives the stdio up while the process goes on (the runtime
// closes): an incomplete line goes to the log as a partial record, for
// whoever takes the output over to finish.
func (c *IO) Release() error {
	return c.end(func(f *fanout) error { return f.close(true) })
}

func (c *IO) end(closeFanout func(*fanout) error) error {
	var err error
	c.endOnce.Do(func() {
		err = errors.Join(closeFanout(c.stdout), closeFanout(c.stderr))
		if c.stdinW != nil {
			c.stdinW.Close()
		}
		if c.log != nil {
			err = errors.Join(err, c.log.Close())
		}
		close(c.ended)
	})
	return err
}

// closeStdin closes the process's stdin for good, once: the pipe, and
// whatever else holds it open (closeRuntime).
func (c *IO) closeStdin(closeRuntime func() error) error {
	var err error
	c.closeStdinOnce.Do(func() {
		c.stdinW.Close()
		if closeRuntime != nil {
			err = closeRuntime()
		}
	})
	return err
}

// Attach connects s to the stdio, with cri.Runtime's Attach semantics;
// closeStdin is what closes the process's stdin beyond the pipe (the
// shim's end of a FIFO), called for StdinOnce.
func (c *IO) Attach(ctx context.Context, s cri.Streams, closeStdin func() error) error {
	if s.Stdin != nil && c.stdinW == nil {
		return ErrNoStdin
	}
	var sinks []*sink
	if s.Stdout != nil {
		sinks = append(sinks, c.stdout.add(s.Stdout))
	}
	if s.Stderr != nil && !c.cfg.TTY {
		sinks = append(sinks, c.stderr.add(s.Stderr))
	}
	defer func() {
		c.stdout.remove(sinks...)
		c.stderr.remove(sinks...)
	}()
	stdinDone := c.copyStdin(s.Stdin, closeStdin)
	return c.waitAttached(ctx, sinks, stdinDone)
}

// copyStdin copies the client's stdin to the process until it ends; the
// channel is closed then (never without stdin).
func (c *IO) copyStdin(in io.Reader, closeStdin func() error) <-chan struct{} {
	done := make(chan struct{})
	if in == nil {
		return done
	}
	go func() {
		defer close(done)
		io.Copy(c.stdinW, in)
		if c.cfg.StdinOnce && !c.cfg.TTY {
			c.closeStdin(closeStdin)
		}
	}()
	return done
}

// waitAttached waits for the end of the attach session: the output ends,
// a client's output fails, the client's stdin ends (unless StdinOnce
// without a TTY, which closed the process's stdin and waits for the end of
// its output), or ctx ends.
func (c *IO) waitAttached(ctx context.Context, sinks []*sink, stdinDone <-chan struct{}) error {
	failed, stop := make(chan struct{}), make(chan struct{})
	defer close(stop)
	var once sync.Once
	for _, s := range sinks {
		go func() {
			select {
			case <-s.failed:
				once.Do(func() { close(failed) })
			case <-failed:
			case <-stop:
			}
		}()
	}
	if c.cfg.StdinOnce && !c.cfg.TTY {
		stdinDone = nil
	}
	select {
	case <-c.ended:
	case <-failed:
	case <-stdinDone:
	case <-ctx.Done():
	}
	return nil
}
