// Command nodeagent-pause is a pod sandbox's process, the small form of
// `nodeagent pause`: containerd runs it as `/pause pause` (bind-mounted
// read-only into every sandbox), and it holds the pod's namespaces and
// reaps the children it inherits until SIGTERM. It is built from
// cri/pause alone, so that each pod costs a few hundred KiB for it, not
// the whole nodeagent binary's start-up and memory. The agent uses it when
// it is next to its own executable (`make build` puts both in bin/) or
// named by --pause-binary.
package main

import (
	"fmt"
	"os"

	"github.com/nodeagent/nodeagent/cri/pause"
)

func main() {
	// The same arguments as `nodeagent pause`, so that either binary
	// serves as the other.
	if len(os.Args) > 2 || (len(os.Args) == 2 && os.Args[1] != "pause") {
		fmt.Fprintf(os.Stderr, "usage: %s [pause] (a pod sandbox's process, run by containerd, not by hand)\n", os.Args[0])
		os.Exit(2)
	}
	if err := pause.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "nodeagent-pause: %v\n", err)
		os.Exit(1)
	}
}
