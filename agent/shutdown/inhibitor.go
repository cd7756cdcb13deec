package shutdown

import (
	"context"
	"time"
)

// Inhibitor is logind's side: delay locks on shutdown and the
// PrepareForShutdown signal.
type Inhibitor interface {
	// Inhibit takes a delay lock on shutdown; who and why are what
	// systemd-inhibit --list shows.
	Inhibit(who, why string) (Lock, error)
	// MaxDelay is how long logind waits for delay locks
	// (InhibitDelayMaxUSec).
	MaxDelay() (time.Duration, error)
	// Events delivers PrepareForShutdown: true as shutdown begins, false
	// when it was cancelled. The channel closes when ctx ends.
	Events(ctx context.Context) (<-chan bool, error)
}

// Lock is a held inhibitor lock.
type Lock interface {
	Release() error
}
