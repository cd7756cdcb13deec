// Package pause is a pod sandbox's process: it holds the pod's namespaces
// and reaps the children it inherits. cmd/nodeagent-pause is this package
// alone (a binary of about 1.5 MB whose process has a few hundred KiB of
// its own); `nodeagent pause` runs the same, in the whole nodeagent
// binary. It imports nothing beyond the standard library and x/sys/unix, so
// that the small binary stays small (hack/test.sh checks it).
package pause

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// Run is the sandbox's process, run as `/pause pause` (see the containerd
// runtime's Config.PauseArgs): it holds the pod's namespaces, reaps the
// children it inherits, and returns on SIGTERM or SIGINT.
func Run() error {
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
