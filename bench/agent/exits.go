package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/typeurl/v2"
)

// exitTimes follows containerd's /tasks/exit events in one namespace and
// keeps each container's exited_at, as the shim recorded it: the moment
// the process was gone, before the agent knew anything.
type exitTimes struct {
	mu    sync.Mutex
	byID  map[string]time.Time
	close func() error
}

func followExits(ctx context.Context, ns string) (*exitTimes, error) {
	c, err := containerd.New(containerdAddress)
	if err != nil {
		return nil, fmt.Errorf("containerd: %w", err)
	}
	e := &exitTimes{byID: map[string]time.Time{}, close: c.Close}
	envelopes, errs := c.Subscribe(ctx, fmt.Sprintf("namespace==%q,topic==%q", ns, "/tasks/exit"))
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-errs:
				return
			case env := <-envelopes:
				if ev, err := typeurl.UnmarshalAny(env.Event); err == nil {
					if exit, ok := ev.(*apievents.TaskExit); ok && exit.ID == exit.ContainerID {
						e.note(exit.ContainerID, exit.ExitedAt.AsTime())
					}
				}
			}
		}
	}()
	return e, nil
}

func (e *exitTimes) note(id string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.byID[id] = at
}

// exitedAt returns when container id (a status containerID,
// "containerd://<id>", or a bare id) exited, waiting up to 5 s for the event.
func (e *exitTimes) exitedAt(ctx context.Context, containerID string) (time.Time, error) {
	id := strings.TrimPrefix(containerID, "containerd://")
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.mu.Lock()
		at, ok := e.byID[id]
		e.mu.Unlock()
		if ok {
			return at, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("no /tasks/exit event for container %s", id)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
