package containerd

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// RunPause is the sandbox's process, run as `/pause pause` (see
// Config.PauseArgs): it holds the pod's namespaces, reaps the children it
// inherits, and returns on SIGTERM or SIGINT.
func RunPause() error {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	defer signal.Stop(sigs)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			return nil
		}
		reapChildren()
	}
	return nil
}

// reapChildren collects every exited child without blocking.
func reapChildren() {
	for {
		var status unix.WaitStatus
		pid, err := unix.Wait4(-1, &status, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
