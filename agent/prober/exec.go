package prober

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/cri"
)

// Execer runs a command in a running container (cri.Runtime's ExecSync):
// past timeout the command is killed and the error wraps
// context.DeadlineExceeded.
type Execer interface {
	ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (cri.ExecResult, error)
}

// execSlack bounds, beyond the probe's timeout, how long a probe waits for
// the runtime to answer at all.
const execSlack = 30 * time.Second

// execHandler runs exec probes: exit code 0 is success, any other a
// failure with the output (stdout then stderr, at most 10 KiB) as message.
type execHandler struct{ exec Execer }

func (h execHandler) run(ctx context.Context, t target, p *corev1.Probe) (outcome, string, error) {
	cmd := expandStatic(p.Exec.Command, t.container.Env)
	d := timeout(p)
	ctx, cancel := context.WithTimeout(ctx, d+execSlack)
	defer cancel()
	res, err := h.exec.ExecSync(ctx, t.containerID, cmd, d)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return outcomeFailure, fmt.Sprintf("command %q timed out", strings.Join(cmd, " ")), nil
	case err != nil:
		return outcomeUnknown, "", err
	}
	out := string(limit(append(res.Stdout, res.Stderr...), maxBody))
	if res.ExitCode != 0 {
		return outcomeFailure, out, nil
	}
	return outcomeSuccess, out, nil
}

func limit(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
