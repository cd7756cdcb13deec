// Command nodeagent-logger writes a container's output as a CRI log, the
// small form of `nodeagent cri-logger`: containerd's shim runs it as
// `nodeagent-logger cri-logger <log path>` for every container (its binary
// logging protocol), and it appends the container's stdout and stderr to
// the log file until they end. It runs outside the agent, so that logs
// flow while the agent restarts. It is built from cri/crilogger alone, so
// that each container costs a few hundred KiB for it, not the whole
// nodeagent binary's start-up and memory. The agent uses it when it is
// next to its own executable (`make build` puts both in bin/) or named by
// --logger-binary.
package main

import (
	"fmt"
	"os"

	"github.com/nodeagent/nodeagent/cri/crilogger"
)

func main() {
	// The same arguments as `nodeagent cri-logger`, so that either binary
	// serves as the other.
	if len(os.Args) < 2 || os.Args[1] != "cri-logger" {
		fmt.Fprintf(os.Stderr, "usage: %s cri-logger <absolute log path> (run by containerd's shim, not by hand)\n", os.Args[0])
		os.Exit(2)
	}
	if err := crilogger.Run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "nodeagent-logger: %v\n", err)
		os.Exit(1)
	}
}
