package shutdown

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Fake is an in-memory logind: it counts the locks held and lets a test
// announce a shutdown.
type Fake struct {
	mu       sync.Mutex
	held     int
	taken    int
	maxDelay time.Duration
	subs     []chan bool
	// Subscribed is closed once Events has been called.
	Subscribed chan struct{}
	// Released gets a value each time a lock is released.
	Released chan struct{}
}

var _ Inhibitor = &Fake{}

// NewFake returns a logind whose InhibitDelayMaxSec is maxDelay.
func NewFake(maxDelay time.Duration) *Fake {
	return &Fake{maxDelay: maxDelay, Subscribed: make(chan struct{}), Released: make(chan struct{}, 16)}
}

func (f *Fake) Inhibit(who, why string) (Lock, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held++
	f.taken++
	return &fakeLock{f: f}, nil
}

func (f *Fake) MaxDelay() (time.Duration, error) { return f.maxDelay, nil }

func (f *Fake) Events(ctx context.Context) (<-chan bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan bool, 4)
	f.subs = append(f.subs, ch)
	if len(f.subs) == 1 {
		close(f.Subscribed)
	}
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.subs = slices.DeleteFunc(f.subs, func(c chan bool) bool { return c == ch })
		close(ch)
	}()
	return ch, nil
}

// Announce sends PrepareForShutdown(active) to the subscribers.
func (f *Fake) Announce(active bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.subs {
		ch <- active
	}
}

// Held is how many locks are held; Taken how many were ever taken.
func (f *Fake) Held() (held, taken int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held, f.taken
}

type fakeLock struct {
	f    *Fake
	once sync.Once
}

func (l *fakeLock) Release() error {
	l.once.Do(func() {
		l.f.mu.Lock()
		l.f.held--
		l.f.mu.Unlock()
		l.f.Released <- struct{}{}
	})
	return nil
}
