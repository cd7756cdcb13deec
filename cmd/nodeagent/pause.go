package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// runPause is the sandbox's process: it holds the pod's namespaces, reaps
// the zombies it inherits, and exits on SIGTERM or SIGINT.
func runPause(_ context.Context, _ *environment, _ []string) error {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			return nil
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
	return nil
}
