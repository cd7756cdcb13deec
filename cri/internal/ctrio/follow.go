package ctrio

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/crilog"
)

// FollowLog attaches s to a container whose output goes straight to its
// log (no stdio kept): what it writes from now on is read from the log
// and written to s, until it stops running or ctx ends. Such a container
// has no stdin to attach.
func FollowLog(ctx context.Context, logPath string, s cri.Streams, running func() bool) error {
	if s.Stdin != nil {
		return ErrNoStdin
	}
	if logPath == "" {
		<-ctx.Done()
		return nil
	}
	for {
		err := crilog.Read(ctx, logPath, crilog.Options{Tail: 0, Follow: true, Running: running}, s.Stdout, s.Stderr)
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		// Nothing was written yet: wait for the log while the container runs.
		if !running() || !sleep(ctx, logPollInterval) {
			return nil
		}
	}
}

// logPollInterval is how often a log that does not exist yet is looked for.
const logPollInterval = 100 * time.Millisecond

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
