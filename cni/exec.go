package cni

import (
	"context"

	"github.com/containernetworking/cni/pkg/invoke"

	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// netnsExec runs CNI plugins inside a given network namespace: the plugin
// process is forked from a locked thread that has entered the namespace, so
// the plugin starts there; no long-lived goroutine ever switches namespace.
type netnsExec struct {
	invoke.Exec
	netns string
}

var _ invoke.Exec = &netnsExec{}

func (e *netnsExec) ExecPlugin(ctx context.Context, pluginPath string, stdin []byte, environ []string) ([]byte, error) {
	var out []byte
	err := nsutil.Do(e.netns, func() error {
		var err error
		out, err = e.Exec.ExecPlugin(ctx, pluginPath, stdin, environ)
		return err
	})
	return out, err
}
