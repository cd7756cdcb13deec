// Package crilogger is the process containerd's shim runs for a container
// whose output goes to a CRI log file (containerd's binary logging
// protocol): it writes the container's stdout and stderr as crilog records.
// cmd/nodeagent-logger is this package alone (its process has a few
// hundred KiB of its own); `nodeagent cri-logger` runs the same, in the
// whole nodeagent binary. It imports nothing beyond the standard library
// and cri/crilog, so that the small binary stays small (hack/test.sh checks
// it).
package crilogger

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nodeagent/nodeagent/cri/crilog"
)

// logDrainTimeout is how long the logger keeps reading after SIGTERM.
const logDrainTimeout = 2 * time.Second

// Run is the logging binary containerd's shim runs for a container:
// `<LoggerBinary> cri-logger <log path or URL>` (the containerd runtime's
// Config.LoggerBinary), with args being what follows "cri-logger" (Arg:
// the path, or a file URL with the log's rotation). It reads the
// container's stdout from fd 3 and stderr from fd 4, signals readiness on
// fd 5 (the shim's binary logging protocol) and appends CRI-format records
// (crilog) to the log file, rotating it at its size (crilog.File), until
// both streams end, or shortly after SIGTERM. It runs outside the agent,
// so logs flow, and rotate, while the agent restarts.
func Run(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: cri-logger <absolute log path or file URL> (got %q)", args)
	}
	path, rot, err := ParseArg(args[0])
	if err != nil {
		return fmt.Errorf("cri-logger: %w", err)
	}
	stdout, stderr, ready := os.NewFile(3, "stdout"), os.NewFile(4, "stderr"), os.NewFile(5, "ready")
	if stdout == nil || stderr == nil || ready == nil {
		return errors.New("cri-logger: fds 3, 4 and 5 must be open (it is run by containerd's shim)")
	}
	out, err := crilog.OpenFile(path, rot, time.Now)
	if err != nil {
		return fmt.Errorf("cri-logger: %w", err)
	}
	defer out.Close()
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(term)
	done := make(chan error, 2)
	go func() { done <- copyRecords(out, "stdout", stdout, time.Now) }()
	go func() { done <- copyRecords(out, "stderr", stderr, time.Now) }()
	if _, err := ready.Write([]byte{0}); err != nil {
		return fmt.Errorf("cri-logger: signal ready: %w", err)
	}
	ready.Close()
	return waitStreams(done, term)
}

// waitStreams waits for both copies to end, or for logDrainTimeout after a
// termination signal.
func waitStreams(done <-chan error, term <-chan os.Signal) error {
	var errs []error
	var drain <-chan time.Time
	for pending := 2; pending > 0; {
		select {
		case err := <-done:
			errs = append(errs, err)
			pending--
		case <-term:
			drain = time.After(logDrainTimeout)
		case <-drain:
			return errors.Join(errs...)
		}
	}
	return errors.Join(errs...)
}

// copyRecords reads stream until EOF and writes its CRI records to w.
func copyRecords(w io.Writer, stream string, r io.Reader, now func() time.Time) error {
	rw := crilog.NewWriter(w, stream, now)
	if _, err := io.CopyBuffer(rw, r, make([]byte, 32*1024)); err != nil {
		return fmt.Errorf("copy %s to the log: %w", stream, err)
	}
	return rw.Close()
}
