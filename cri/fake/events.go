package fake

import (
	"context"

	"github.com/nodeagent/nodeagent/cri"
)

// EventBuffer is how many undelivered events a subscriber may have before
// the fake breaks its stream (closes the channel), as a real stream breaks
// when its reader stalls.
const EventBuffer = 1024

type subscriber struct {
	ch chan cri.Event
}

// Events implements cri.Runtime: every subscriber gets every event from now
// on, until ctx ends, BreakEvents is called or it falls EventBuffer behind.
func (f *Fake) Events(ctx context.Context) (<-chan cri.Event, error) {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("Events"); err != nil {
		return nil, err
	}
	sub := &subscriber{ch: make(chan cri.Event, EventBuffer)}
	s.subs[sub] = true
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.unsubscribe(sub)
	})
	return sub.ch, nil
}

// publish sends an event to every subscriber; the caller holds the lock.
func (s *state) publish(typ cri.EventType, id string, labels map[string]string) {
	ev := cri.Event{Type: typ, ContainerID: id, PodUID: labels[cri.LabelPodUID], Time: s.now()}
	for sub := range s.subs {
		select {
		case sub.ch <- ev:
		default:
			s.unsubscribe(sub)
		}
	}
}

// unsubscribe closes sub's channel once; the caller holds the lock.
func (s *state) unsubscribe(sub *subscriber) {
	if s.subs[sub] {
		delete(s.subs, sub)
		close(sub.ch)
	}
}
