// Package proc is what the benchmarks share about processes: reading a
// process's RSS and the machine's description from /proc, and stopping a
// subprocess they started.
package proc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ReadRSS reads VmRSS (bytes) from /proc/<pid>/status.
func ReadRSS(pid int) (uint64, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return parseRSS(path, data)
}

// parseRSS finds the VmRSS line of a /proc/<pid>/status read from path.
func parseRSS(path string, data []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "VmRSS:" && f[2] == "kB" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: VmRSS %q: %w", path, f[1], err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("%s: no VmRSS line", path)
}

// Process is a started subprocess whose exit is watched.
type Process struct {
	Cmd    *exec.Cmd
	exited chan struct{}
}

// Watch waits for cmd, which must have been started, in the background.
func Watch(cmd *exec.Cmd) *Process {
	p := &Process{Cmd: cmd, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	return p
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// RSS is the process's resident set size in bytes.
func (p *Process) RSS() (uint64, error) { return ReadRSS(p.Cmd.Process.Pid) }

// Stop sends SIGTERM and waits for the exit; after timeout it kills the
// process, waits, and says so.
func (p *Process) Stop(timeout time.Duration) error {
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGTERM: %w", err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(timeout):
		p.Cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("did not exit within %s of SIGTERM; killed", timeout)
	}
}

// LogTail is the last 2000 bytes of the file at path, for error messages.
func LogTail(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	const keep = 2000
	if len(data) > keep {
		data = data[len(data)-keep:]
	}
	return string(data), nil
}
