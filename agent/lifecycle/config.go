package lifecycle

import (
	"errors"
	"log/slog"

	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/agent/prober"
)

// Config configures Hooks; the zero value of each optional field means its
// default.
type Config struct {
	// Exec runs exec hooks in the container: the container runtime.
	// Required.
	Exec prober.Execer
	// Dial connects to pods for httpGet hooks; nil: prober.NodeDialer, from
	// the agent's own network namespace.
	Dial prober.DialFunc
	// Recorder records kubelet's hook events (FailedPostStartHook,
	// FailedPreStopHook, LifecycleHTTPFallback); nil: none.
	Recorder prober.Recorder
	// Clock times sleep hooks and the preStop grace period; nil: the real
	// clock.
	Clock clock.Clock
	// Log receives a line per failed hook; nil: discarded.
	Log *slog.Logger
	// Version is the Kubernetes version in httpGet hooks' User-Agent,
	// kube-lifecycle/<Version>; "": prober.DefaultVersion.
	Version string
}

func (c Config) withDefaults() Config {
	if c.Dial == nil {
		c.Dial = prober.NodeDialer()
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Version == "" {
		c.Version = prober.DefaultVersion
	}
	return c
}

// Validate reports a configuration Hooks cannot run with.
func (c Config) Validate() error {
	if c.Exec == nil {
		return errors.New("lifecycle: Exec (the container runtime) is required")
	}
	return nil
}
